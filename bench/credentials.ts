/**
 * A visitor pass at a serial reader to the door's lock output: signed passes written to one end
 * of a socat pty pair, read by a running gateway (its journal on disk, no broker) on the other,
 * timed from the pass's last byte written to the sim board's lock output changing. Each pass's
 * use is written to disk (fsync) before the door is told to open, so this includes that write.
 * Beside it, the floor: the same line read by a bare serialport listener on a second pty pair.
 */
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPass } from '../access/passes.js';
import { validateConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/log.js';
import { SimBoard } from '../drivers/io/sim.js';
import { Gateway } from '../gateway/main.js';

import type { Percentiles } from './lpr.js';
import { pct as percentile } from './lpr.js';
import { ptyPair } from './peers.js';

const pct = (xs: number[]): Percentiles => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) });

export async function passLatency(samples = 500): Promise<{ gateway: Percentiles; floor: Percentiles; samples: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-pass-'));
  const keys = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'platform.pub.pem');
  writeFileSync(keyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const line = await ptyPair();
  const floorLine = await ptyPair();
  const result = validateConfig({
    site: { id: 'bench' },
    gateway: { id: 'gw-bench', dataDir: join(dir, 'data') },
    io: [{ id: 'sim', type: 'sim' }],
    access: { passes: { publicKey: keyFile } },
    devices: [
      { id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure', unlockMs: 200 },
      { id: 'reader-a', type: 'reader', door: 'door-a', port: line.a, baudRate: 115200 },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const board = new SimBoard('sim', { clock: systemClock });
  const gateway = new Gateway({
    config: result.config,
    log: createLogger({ level: 'silent' }),
    version: 'bench',
    boards: new Map([['sim', board]]),
    listen: false,
    clockSync: false,
  });
  await gateway.start();
  for (let i = 0; i < 500 && gateway.devices.get('reader-a')!.snapshot()['open'] !== true; i++) await new Promise((r) => setTimeout(r, 10));

  const writer = openSync(line.b, 'w');
  const now = Math.floor(Date.now() / 1000);
  const timings: number[] = [];
  let waiting: ((t: number) => void) | undefined;
  const off = board.onChange((c) => c.pin === 1 && c.value === 1 && waiting?.(performance.now()));
  for (let i = 0; i < samples; i++) {
    const text = signPass({ id: `bench-${i}`, doors: ['door-a'], from: now - 60, until: now + 3600, uses: 1, name: '访客' }, keys.privateKey);
    const opened = new Promise<number>((resolve) => (waiting = resolve));
    writeSync(writer, `${text}\r\n`);
    const sent = performance.now();
    timings.push((await opened) - sent);
    waiting = undefined;
    // let the door relock before the next pass (unlockMs 200), as at a real door
    await new Promise((r) => setTimeout(r, 210));
  }
  off();
  closeSync(writer);
  await gateway.stop();

  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: floorLine.a, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const floorWriter = openSync(floorLine.b, 'w');
  const floor: number[] = [];
  let got: ((t: number) => void) | undefined;
  port.on('data', (chunk: Buffer) => chunk.includes(0x0a) && got?.(performance.now()));
  const sample = signPass({ id: 'floor', doors: ['door-a'], from: now, until: now + 60, uses: 1 }, keys.privateKey);
  for (let i = 0; i < Math.min(samples, 300); i++) {
    const arrived = new Promise<number>((resolve) => (got = resolve));
    writeSync(floorWriter, `${sample}\r\n`);
    const sent = performance.now();
    floor.push((await arrived) - sent);
    await new Promise((r) => setTimeout(r, 5));
  }
  closeSync(floorWriter);
  await new Promise<void>((r) => port.close(() => r()));
  line.stop();
  floorLine.stop();
  return { gateway: pct(timings), floor: pct(floor), samples };
}
