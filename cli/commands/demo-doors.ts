/**
 * The demo's people at doors: a keyboard-mode QR reader at the lobby (a FIFO the demo types key
 * records into, as the reader's USB keyboard would), visitor passes signed with a key made for
 * this run (the platform's part), and a face terminal at the basement door pushing Hikvision
 * AccessControllerEvent JSON over HTTP, as the real one does.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { signPass } from '../../access/passes.js';
import type { SiteConfig } from '../../config/schema.js';
import { typeAsKeyboard } from '../../drivers/readers/keyboard.js';
import { isReaderConfig } from '../../devices/reader/index.js';

export interface DemoDoors {
  /** replays the minute of people at doors; returns how to stop it */
  play(httpPort: number, onNote: (note: string) => void, period?: number): () => void;
  close(): void;
}

/**
 * Sets the demo config's reader up on a FIFO in `dataDir` and its pass key; without `mkfifo`
 * (not a Linux or macOS machine) the reader is left out and the terminal still plays.
 */
export function prepareDemoDoors(config: SiteConfig, dataDir: string): DemoDoors {
  const keys = generateKeyPairSync('ed25519');
  const keyFile = join(dataDir, 'demo-pass-key.pem');
  writeFileSync(keyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  config.access.passes = { publicKey: keyFile };
  const fifo = join(dataDir, 'demo-qr-reader');
  let kbd: number | undefined;
  try {
    execFileSync('mkfifo', [fifo], { stdio: 'ignore' });
    kbd = openSync(fifo, 'r+'); // read-write: opening never waits for the reader's side
    for (const d of config.devices) if (isReaderConfig(d) && d.keyboard !== undefined) d.keyboard = fifo;
  } catch {
    config.devices = config.devices.filter((d) => !isReaderConfig(d));
  }
  const now = () => Math.floor(Date.now() / 1000);
  return {
    play(httpPort, onNote, period = 60_000) {
      const timers: NodeJS.Timeout[] = [];
      let round = 0;
      const face = (subEventType: number, person?: string) =>
        JSON.stringify({
          ipAddress: '127.0.0.1',
          dateTime: new Date().toISOString(),
          eventType: 'AccessControllerEvent',
          AccessControllerEvent: {
            majorEventType: 5,
            subEventType,
            currentVerifyMode: 'cardOrFace',
            ...(person ? { employeeNoString: person, name: '3-1201' } : {}),
          },
        });
      const push = (body: string) => {
        const req = request({ host: '127.0.0.1', port: httpPort, path: '/acs/face-b1', method: 'POST', headers: { 'content-type': 'application/json' } });
        req.on('response', (res) => res.resume());
        req.on('error', () => undefined); // the demo is stopping
        req.end(body);
      };
      const schedule = (offset: number) => {
        round++;
        const pass = signPass(
          { id: `demo-visit-${round}`, doors: ['door-lobby'], from: now() - 60, until: now() + 120, uses: 1, name: '访客 Visitor' },
          keys.privateKey,
        );
        const steps: Array<[number, string, () => void]> = [
          [12_000, 'a visitor shows the QR pass a resident sent them at the lobby reader', () => kbd !== undefined && writeSync(kbd, typeAsKeyboard(pass))],
          [20_000, 'the visitor tries the same one-use pass again', () => kbd !== undefined && writeSync(kbd, typeAsKeyboard(pass))],
          [25_000, 'a resident looks at the face terminal at the basement door', () => push(face(75, '3-1201'))],
          [33_000, 'a stranger tries the face terminal', () => push(face(76))],
        ];
        for (const [at, note, act] of steps) timers.push(setTimeout(() => (onNote(note), act()), offset + at));
        timers.push(setTimeout(() => schedule(0), offset + period));
      };
      schedule(0);
      return () => timers.forEach(clearTimeout);
    },
    close() {
      if (kbd !== undefined) closeSync(kbd);
    },
  };
}
