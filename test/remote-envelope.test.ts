/**
 * The envelope of a remote command, apart from what it does (test/remote.test.ts): the canonical
 * JSON a platform signs, a retained command seen as retained over MQTT 5 (a real mosquitto), and
 * command ids remembered for a day, also on disk.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { SimBoard } from '../drivers/io/sim.js';
import { Gateway } from '../gateway/main.js';
import { canonicalJson, signCommand } from '../gateway/remote.js';
import { siteConfig, silentLog } from './helpers.js';
import { HAVE_MOSQUITTO, startMosquitto, subscribe, until } from './peers/broker.js';
import { freePort } from './peers/modbus.js';

const PREFIX = 'estate/test-site/gw-test';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('canonical JSON (RFC 8785) for signatures', () => {
  it('sorts keys at every level by UTF-16 code units, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 'é' }], c: null }, '\u20ac': 1, '\ud83d\ude00': 2, A: true })).toBe(
      '{"A":true,"a":{"c":null,"d":[3,{"y":"é","z":1}]},"b":1,"€":1,"😀":2}',
    );
  });
  it('writes numbers and strings as ECMAScript does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 1.5e-7, 'a"b\\c\n\u0001'])).toBe('[1e+21,0.1,0,1.5e-7,"a\\"b\\\\c\\n\\u0001"]');
  });
  it('signs the README example the way a platform would (HMAC-SHA256, lowercase hex)', () => {
    const cmd = { id: 'c-123', action: 'open', device: 'gate-north', expiresAt: '2026-11-22T02:00:30Z', by: 'platform-user-7' };
    expect(canonicalJson(cmd)).toBe('{"action":"open","by":"platform-user-7","device":"gate-north","expiresAt":"2026-11-22T02:00:30Z","id":"c-123"}');
    expect(signCommand(cmd, 'k')).toMatch(/^[0-9a-f]{64}$/);
    expect(signCommand({ ...cmd, sig: 'whatever' }, 'k')).toBe(signCommand(cmd, 'k'));
  });
});

describe.runIf(HAVE_MOSQUITTO || process.env.CI === 'true')('remote commands over MQTT 5 (mosquitto)', () => {
  it('sees the retain flag as published, so even a live retained "open" is ignored', async () => {
    const port = await freePort();
    const broker = await startMosquitto(port);
    cleanups.push(() => broker.stop());
    const config = siteConfig({
      upstream: { mqtt: { url: `mqtt://127.0.0.1:${port}` } },
      io: [{ id: 'sim', type: 'sim' }],
      devices: [{ id: 'gate-north', type: 'barrier', open: { io: 'sim', pin: 5 } }],
    });
    const board = new SimBoard('sim', { clock: systemClock });
    const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, boards: new Map([['sim', board]]), uplink: { reconnectMinMs: 100 } });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const platform = await subscribe(port, `${PREFIX}/cmd/reply`);
    cleanups.push(() => platform.stop());
    await until('uplink connected', () => gateway.uplink?.connected === true);
    await new Promise((r) => setTimeout(r, 200));
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    await platform.client.publishAsync(`${PREFIX}/cmd`, JSON.stringify({ id: 'live-ret', action: 'open', device: 'gate-north', expiresAt }), {
      qos: 1,
      retain: true,
    });
    await platform.client.publishAsync(`${PREFIX}/cmd`, JSON.stringify({ id: 'live', action: 'open', device: 'gate-north', expiresAt }), { qos: 1 });
    await until('two replies', () => platform.messages.length >= 2);
    expect(platform.json()).toEqual([
      { id: 'live-ret', ok: false, error: 'retained', message: 'retained commands are ignored' },
      { id: 'live', ok: true },
    ]);
    expect(board.historyOf(5).map(([, v]) => v)).toEqual([0, 1]);
  });
});

describe('remembered command ids', () => {
  it('are kept for a day (and until their command expires), then forgotten, also on disk', async () => {
    const { RemoteCommands } = await import('../gateway/remote.js');
    const { AccessControl } = await import('../access/access.js');
    const { readFileSync } = await import('node:fs');
    let now = Date.parse('2026-11-22T00:00:00Z');
    const clock = { now: () => now, setTimeout: () => 0 as never, clearTimeout: () => undefined };
    const dir = mkdtempSync(join(tmpdir(), 'eg-seen-'));
    const config = siteConfig({});
    const access = new AccessControl({ config, dataDir: undefined, clock, log: silentLog, onPendingDecided: () => undefined });
    const remote = new RemoteCommands({ key: undefined, dataDir: dir, clock, log: silentLog, devices: new Map(), access, audit: () => undefined });
    const ping = (id: string, expiresInMs = 30_000) =>
      remote.handle(Buffer.from(JSON.stringify({ id, action: 'ping', expiresAt: new Date(now + expiresInMs).toISOString() })), false);
    expect(ping('a')).toEqual({ id: 'a', ok: true });
    expect(ping('b', 3 * 86_400_000)).toEqual({ id: 'b', ok: true }); // valid for three days: remembered that long
    now += 23 * 3600_000;
    expect(ping('a')).toMatchObject({ ok: false, error: 'replayed' });
    now += 2 * 3600_000;
    expect(ping('c')).toEqual({ id: 'c', ok: true }); // 'a' is forgotten now
    expect(ping('a')).toEqual({ id: 'a', ok: true });
    expect(ping('b')).toMatchObject({ ok: false, error: 'replayed' });
    await remote.flush();
    const onDisk = JSON.parse(readFileSync(join(dir, 'commands-seen.json'), 'utf8')) as { seen: Array<[string, number]> };
    expect(onDisk.seen.map(([id]) => id).sort()).toEqual(['a', 'b', 'c']);
  });
});
