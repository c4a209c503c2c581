/**
 * Readers at doors, end to end: a serial QR/card reader through a socat pty pair and a
 * keyboard-mode reader through a fake input event stream (a FIFO of input_event records), in a
 * running gateway whose broker is down. Every refusal names its reason and moves nothing; a good
 * pass opens the door (its speed, within 50 ms of the last byte, is measured by `npm run bench`);
 * and once the broker is back every credential event arrives upstream.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pass } from '../access/passes.js';
import { signPass } from '../access/passes.js';
import { systemClock } from '../core/clock.js';
import type { GatewayEvent } from '../core/events.js';
import type { Reader } from '../devices/reader/reader.js';
import { SimBoard } from '../drivers/io/sim.js';
import { typeAsKeyboard } from '../drivers/readers/keyboard.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { startAedes, subscribe, until } from './peers/broker.js';
import { HAVE_SOCAT, RUN_PEER_TESTS, freePort, ptyPair } from './peers/modbus.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const keys = generateKeyPairSync('ed25519');
const LOCK_A = 1;
const LOCK_B = 2;
const BUZZER = 5;
const PREFIX = 'estate/test-site/gw-test';

describe.runIf(RUN_PEER_TESTS || HAVE_SOCAT)('readers at doors (socat pty, input event FIFO, broker down)', () => {
  it('passes and cards open their doors offline, refusals move nothing, and every event is delivered once the broker returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-readers-'));
    const keyFile = join(dir, 'platform.pub.pem');
    writeFileSync(keyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const pty = await ptyPair();
    cleanups.push(() => pty.stop());
    const fifo = join(dir, 'event-kbd');
    execFileSync('mkfifo', [fifo]);
    const brokerPort = await freePort();
    const dataDir = join(dir, 'data');

    const board = new SimBoard('sim', { clock: systemClock });
    const start = async () => {
      const config = siteConfig({
        io: [{ id: 'sim', type: 'sim' }],
        upstream: { mqtt: { url: `mqtt://127.0.0.1:${brokerPort}` } },
        access: { passes: { publicKey: keyFile }, cards: [{ card: '0012345678', doors: ['door-b'] }] },
        devices: [
          { id: 'door-a', type: 'door', lock: { io: 'sim', pin: LOCK_A }, lockType: 'fail-secure', unlockMs: 1000 },
          { id: 'door-b', type: 'door', lock: { io: 'sim', pin: LOCK_B }, lockType: 'fail-secure', unlockMs: 1000 },
          { id: 'reader-a', type: 'reader', door: 'door-a', port: pty.a, baudRate: 9600, buzzer: { io: 'sim', pin: BUZZER } },
          { id: 'reader-b', type: 'reader', door: 'door-b', keyboard: fifo, accepts: ['card'] },
        ],
      });
      config.gateway.dataDir = dataDir;
      const gateway = new Gateway({
        config,
        log: silentLog,
        version: 'test',
        boards: new Map([['sim', board]]),
        listen: false,
        uplink: { reconnectMinMs: 100, reconnectMaxMs: 300 },
      });
      const events: GatewayEvent[] = [];
      gateway.eventBus.on('event', 'test', (ev) => void events.push(ev));
      await gateway.start();
      return { gateway, events };
    };
    let { gateway, events } = await start();
    const readerA = () => gateway.devices.get('reader-a') as Reader;
    await until('serial reader open', () => readerA().snapshot()['open'] === true);

    // The keyboard FIFO: opening it for writing lets the gateway's reader open it for reading.
    const kbd = openSync(fifo, 'r+'); // read-write: never blocks, whether or not the reader has it open yet
    cleanups.push(() => closeSync(kbd));

    const writer = openSync(pty.b, 'w');
    cleanups.push(() => closeSync(writer));
    const now = Date.now() / 1000;
    const pass = (over: Partial<Pass>): string =>
      signPass({ id: 'p-ok', doors: ['door-a'], from: Math.floor(now - 60), until: Math.floor(now + 3600), uses: 1, ...over }, keys.privateKey);
    const lockChanges = (pin: number) => board.historyOf(pin).length;
    const denied = () => events.filter((e) => e.type === 'access.denied').map((e) => e.data as { reason: string; pass?: string; card?: string });

    // A good pass opens the door (how fast is a benchmark's business: pass.read_to_unlock_p99).
    const before = lockChanges(LOCK_A);
    const opened = new Promise<number>((resolve) => {
      const off = board.onChange((c) => {
        if (c.pin === LOCK_A && c.value === 1) {
          off();
          resolve(performance.now());
        }
      });
    });
    writeSync(writer, `${pass({})}\r\n`);
    const sentAt = performance.now();
    const latency = (await opened) - sentAt;
    expect(lockChanges(LOCK_A)).toBe(before + 1);
    await until('unlocked event', () => events.some((e) => e.type === 'door.unlocked' && (e.data as { by: string }).by === 'qr'));
    expect(events.find((e) => e.type === 'door.unlocked')).toMatchObject({
      device: 'door-a',
      data: { by: 'qr', pass: 'p-ok', reader: 'reader-a', remainingUses: 0 },
    });
    await until('relocked', () => board.historyOf(LOCK_A).at(-1)?.[1] === 0, 5000);
    const settled = lockChanges(LOCK_A);
    const beeps = () => board.historyOf(BUZZER).filter(([, v]) => v === 1).length;
    expect(beeps()).toBe(1); // one beep for yes

    // Each bad pass is refused with its reason, and the lock does not move.
    const other = generateKeyPairSync('ed25519');
    const bad: Array<[string, string]> = [
      [pass({ id: 'p-expired', until: Math.floor(now - 10) }), 'expired'],
      [pass({ id: 'p-early', from: Math.floor(now + 600) }), 'not-yet-valid'],
      [pass({}), 'used-up'],
      [pass({ id: 'p-other-door', doors: ['door-b'] }), 'wrong-door'],
      [signPass({ id: 'p-forged', doors: ['door-a'], from: Math.floor(now - 60), until: Math.floor(now + 3600), uses: 9 }, other.privateKey), 'bad-signature'],
    ];
    for (const [text, reason] of bad) {
      const n = denied().length;
      writeSync(writer, `${text}\r\n`);
      await until(`refusal ${reason}`, () => denied().length === n + 1);
      expect(denied().at(-1)).toMatchObject({ reason });
      if (reason === 'expired') await until('three beeps for no', () => beeps() === 4, 3000);
    }
    gateway.access.credentials.passes.revoke(['p-revoked']);
    writeSync(writer, `${pass({ id: 'p-revoked' })}\r\n`);
    await until('revoked', () => denied().at(-1)?.reason === 'revoked');
    expect(lockChanges(LOCK_A)).toBe(settled);

    // The keyboard-mode reader: a listed card opens door-b; an unknown one is refused.
    writeSync(kbd, typeAsKeyboard('12345678'));
    await until('card unlock', () => events.some((e) => e.type === 'door.unlocked' && e.device === 'door-b'));
    expect(events.find((e) => e.type === 'door.unlocked' && e.device === 'door-b')).toMatchObject({
      data: { by: 'card', card: '12345678', reader: 'reader-b' },
    });
    writeSync(kbd, typeAsKeyboard('99999'));
    await until('unknown card', () => denied().at(-1)?.reason === 'not-listed');
    expect(denied().at(-1)).toMatchObject({ card: '99999' });
    // and a pass at a card-only reader
    writeSync(kbd, typeAsKeyboard(pass({ id: 'p-kbd' })));
    await until('not accepted', () => denied().at(-1)?.reason === 'not-accepted');

    // A restart: the pass used before is still used up (its use was on disk before the door opened).
    const journaledBefore = events.length;
    expect(journaledBefore).toBeGreaterThan(10);
    await gateway.stop();
    closeSync(kbd);
    cleanups.splice(
      cleanups.findIndex((c) => c.toString().includes('kbd')),
      1,
    );
    ({ gateway, events } = await start());
    await until('serial reader open again', () => readerA().snapshot()['open'] === true);
    const n = denied().length;
    writeSync(writer, `${pass({})}\r\n`);
    await until('replay refused', () => denied().length === n + 1);
    expect(denied().at(-1)).toMatchObject({ reason: 'used-up', pass: 'p-ok' });

    // The broker comes back: every credential event of both runs arrives.
    const broker = await startAedes(brokerPort);
    cleanups.push(() => broker.stop());
    const sub = await subscribe(broker.port, `${PREFIX}/events/#`);
    cleanups.push(() => sub.stop());
    cleanups.push(() => gateway.stop());
    await until(
      'delivered',
      () => sub.json((m) => m.topic.endsWith('/access.denied')).length >= 9 && sub.json((m) => m.topic.endsWith('/door.unlocked')).length >= 2,
      20_000,
    );
    const up = sub.json<{ type: string; historical: boolean; data: { reason?: string; by?: string } }>(
      (m) => m.topic.endsWith('/access.denied') || m.topic.endsWith('/door.unlocked'),
    );
    expect(
      up
        .filter((e) => e.type === 'door.unlocked')
        .map((e) => e.data.by)
        .sort(),
    ).toEqual(['card', 'qr']);
    expect(
      up
        .filter((e) => e.type === 'access.denied')
        .map((e) => e.data.reason)
        .sort(),
    ).toEqual(['bad-signature', 'expired', 'not-accepted', 'not-listed', 'not-yet-valid', 'revoked', 'used-up', 'used-up', 'wrong-door'].sort());
    expect(new Set(sub.json<{ id: string }>().map((e) => e.id)).size).toBe(sub.messages.length); // each once
    console.log(`reader test: pass to door output ${latency.toFixed(1)} ms`);
  }, 60_000);
});

describe('a QR kiosk at a car lane', () => {
  it('a pass naming the lane opens the barrier with who it was; one for a door is refused there, and the card list may name lanes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-kiosk-'));
    const keyFile = join(dir, 'platform.pub.pem');
    writeFileSync(keyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const fifo = join(dir, 'event-kbd');
    execFileSync('mkfifo', [fifo]);
    const board = new SimBoard('sim', { clock: systemClock });
    const config = siteConfig({
      io: [{ id: 'sim', type: 'sim' }],
      access: { passes: { publicKey: keyFile }, cards: [{ card: '777', doors: ['gate'] }] },
      devices: [
        { id: 'door-a', type: 'door', lock: { io: 'sim', pin: LOCK_A }, lockType: 'fail-secure' },
        { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 10 }, safetyLoop: { io: 'sim', pin: 11 } },
        { id: 'kiosk', type: 'reader', lane: 'gate', keyboard: fifo },
      ],
    });
    const gateway = new Gateway({ config, log: silentLog, version: 'test', boards: new Map([['sim', board]]), listen: false, journal: false });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (ev) => void events.push(ev));
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const kbd = openSync(fifo, 'r+');
    cleanups.push(() => closeSync(kbd));
    const now = Math.floor(Date.now() / 1000);
    writeSync(kbd, typeAsKeyboard(signPass({ id: 'car-1', doors: ['gate'], from: now - 60, until: now + 600, uses: 1 }, keys.privateKey)));
    await until('barrier opened', () => events.some((e) => e.type === 'barrier.opened'));
    expect(events.find((e) => e.type === 'barrier.opened')).toMatchObject({
      device: 'gate',
      data: { by: 'qr', pass: 'car-1', reader: 'kiosk', remainingUses: 0 },
    });
    expect(board.historyOf(10).map(([, v]) => v)).toContain(1);
    writeSync(kbd, typeAsKeyboard(signPass({ id: 'walk-1', doors: ['door-a'], from: now - 60, until: now + 600, uses: 1 }, keys.privateKey)));
    await until('refused', () => events.some((e) => e.type === 'access.denied'));
    expect(events.find((e) => e.type === 'access.denied')).toMatchObject({
      device: 'kiosk',
      data: { by: 'qr', reason: 'wrong-door', lane: 'gate', pass: 'walk-1' },
    });
    writeSync(kbd, typeAsKeyboard('777'));
    await until('card opens the lane', () => events.filter((e) => e.type === 'barrier.opened').length === 2);
    expect(events.filter((e) => e.type === 'barrier.opened')[1]).toMatchObject({ data: { by: 'card', card: '777' } });
  }, 20_000);
});
