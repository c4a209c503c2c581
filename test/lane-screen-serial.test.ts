/**
 * A lane screen on a serial port of the gateway (a USB-RS485 adapter), end to end: the screen is
 * the far end of a socat pty pair, played by a screen written from the vendor document
 * (test/peers/lane-screen.ts: it checks every CRC, decodes the GBK and answers each frame).
 * Camera pushes arrive over raw HTTP/1.0. Then the screen's faults: one that stops answering,
 * and an adapter unplugged and plugged back: the lane opens throughout, the screen is the lane's
 * part fault, and it comes back by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import { until } from './peers/until.js';
import type { ScreenFrame, Shown } from './peers/lane-screen.js';
import { answer, decode, splitFrames } from './peers/lane-screen.js';
import { HAVE_SOCAT, RUN_PEER_TESTS, ptyPair } from './peers/modbus.js';
import { rawPost } from './peers/raw-http.js';

const OPEN = 10;
const cleanups: Array<() => Promise<void> | void> = [];
let h: Harness | undefined;
afterEach(async () => {
  await h?.gateway.stop();
  h = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The screen at the far end of the line: every frame decoded and, while it is answering, acknowledged. */
async function screenAt(path: string) {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const shown: Shown[] = [];
  const s = { shown, answering: true, frames: 0 };
  let buffer: Buffer = Buffer.alloc(0);
  port.on('data', (chunk: Buffer) => {
    const { frames, rest } = splitFrames(Buffer.concat([buffer, chunk]));
    buffer = rest;
    for (const f of frames as ScreenFrame[]) {
      s.frames++;
      shown.push(decode(f));
      if (s.answering) port.write(answer(f));
    }
  });
  const close = () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  cleanups.push(close);
  return Object.assign(s, { close });
}

const texts = (shown: Shown[]) => shown.flatMap((s) => (s.cmd === 'lines' ? [{ lines: s.lines.map((l) => l.text), voice: s.voice }] : []));

describe.runIf(RUN_PEER_TESTS || HAVE_SOCAT)('a lane screen on a serial port (socat pty)', () => {
  it('shows and speaks each outcome, and its faults are its own: silent, unplugged, back', async () => {
    const pty = await ptyPair();
    cleanups.push(() => pty.stop());
    const screen = await screenAt(pty.b);
    h = await startGateway(
      {
        devices: [
          { id: 'gate', type: 'barrier', open: { io: 'sim', pin: OPEN }, pulseMs: 200, display: { port: pty.a, baudRate: 9600 } },
          { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'], repeatWindowSec: 0 },
        ],
        access: {
          visitors: 'record',
          carParks: [{ id: 'p1', capacity: 1, lanes: ['gate'] }],
          plates: [{ plate: '鲁B12345', class: 'owner' }],
          screen: { dwellSec: 1 },
        },
      },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    const gate = () => h!.gateway.devices.get('gate')!;
    const push = (plate: string) =>
      rawPost(h!.gateway.address!.port, '/lpr/cam', Buffer.from(JSON.stringify({ plate, confidence: 97 })), 'application/json', 'http1.0');
    const opens = () => h!.board.historyOf(OPEN).filter(([, v]) => v === 1).length;

    // At start: the clock is set and the idle page shows the spaces.
    await until('the idle page on the screen', () => texts(screen.shown).some((t) => t.lines[1] === '余位1'));
    expect(screen.shown[0]).toMatchObject({ cmd: 'clock', year: new Date().getFullYear() });
    await until('the screen counted as working', () => (gate().snapshot()['display'] as { state: string }).state === 'ok');

    // A resident: the lane opens, the screen greets it.
    expect((await push('鲁B12345')).status).toBe(200);
    expect(opens()).toBe(1);
    await until('the welcome', () => texts(screen.shown).some((t) => t.lines[0] === '鲁B12345'));
    expect(texts(screen.shown).at(-1)).toEqual({ lines: ['鲁B12345', '业主车', '欢迎光临'], voice: '鲁B12345，欢迎光临' });
    // A visitor takes the last space; the next is refused: full.
    await push('粤A00001');
    await push('粤A00002');
    await until('the full message', () => texts(screen.shown).some((t) => t.lines[1] === '车位已满'));
    expect(texts(screen.shown).at(-1)).toEqual({ lines: ['粤A00002', '车位已满', '请勿入场'], voice: '车位已满，请勿入场' });
    expect(opens()).toBe(2);

    // The screen stops answering: the lane still opens at once; the screen is the lane's part fault.
    screen.answering = false;
    await push('鲁B12345');
    expect(opens()).toBe(3);
    await push('鲁B12345');
    expect(opens()).toBe(4);
    await until('DISPLAY_SILENT', () => h!.events.some((e) => e.type === 'device.fault' && e.device === 'gate'));
    expect(h.events.filter((e) => e.type === 'device.fault').map((e) => [e.device, e.data])).toEqual([
      ['gate', { code: 'DISPLAY_SILENT', message: `the screen on ${pty.a} does not answer` }],
    ]);
    expect(gate().snapshot()).toMatchObject({ fault: 'DISPLAY_SILENT', state: expect.any(String), display: { state: 'silent' } });
    expect(h.gateway.health()).toMatchObject({ status: 'degraded', devices: { fault: 1 } });
    screen.answering = true;
    await push('鲁B12345');
    await until('recovered', () => h!.events.some((e) => e.type === 'device.recovered' && e.device === 'gate'));
    expect(gate().snapshot()).toMatchObject({ fault: null, display: { state: 'ok' } });

    // The adapter is unplugged: the port is gone; the lane opens all the same.
    await screen.close();
    await pty.stop();
    await until('DISPLAY_OFFLINE', () => h!.events.some((e) => e.type === 'device.fault' && (e.data as { code: string }).code === 'DISPLAY_OFFLINE'));
    const before = opens();
    await push('鲁B12345');
    expect(opens()).toBe(before + 1);
    // Plugged back (the same path): opened again within its retry, shown again.
    const again = await ptyPair(pty.dir);
    cleanups.push(() => again.stop());
    const screen2 = await screenAt(again.b);
    await until('reopened', () => h!.events.filter((e) => e.type === 'device.recovered' && e.device === 'gate').length === 2, 15_000);
    await push('鲁B12345');
    await until('shown on the screen plugged back', () => texts(screen2.shown).some((t) => t.lines[0] === '鲁B12345'));
  });
});
