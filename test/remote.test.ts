import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournaledEvent } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { signCommand } from '../gateway/remote.js';
import { SimBoard } from '../drivers/io/sim.js';
import { systemClock } from '../core/clock.js';
import { siteConfig, silentLog } from './helpers.js';
import { startAedes, subscribe, until } from './peers/broker.js';

const PREFIX = 'estate/test-site/gw-test';
const KEY = 'a-shared-secret-of-the-platform';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { key?: boolean; dataDir?: string; board?: SimBoard; beforeGateway?: (port: number) => Promise<void> } = {}) {
  const broker = await startAedes();
  cleanups.push(() => broker.stop());
  await opts.beforeGateway?.(broker.port);
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'eg-cmd-'));
  const keyFile = join(dir, 'command.key');
  writeFileSync(keyFile, `  ${KEY}\n`);
  const config = siteConfig({
    upstream: { mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, ...(opts.key ? { commandKey: keyFile } : {}) } },
    io: [{ id: 'sim', type: 'sim' }],
    devices: [
      { id: 'gate-north', type: 'barrier', open: { io: 'sim', pin: 5 }, close: { io: 'sim', pin: 6 }, safetyLoop: { io: 'sim', pin: 13 } },
      { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate-north', allowFrom: ['127.0.0.1'] },
    ],
    access: { visitors: 'ask' },
  });
  config.gateway.dataDir = dir;
  const board = opts.board ?? new SimBoard('sim', { clock: systemClock });
  const gateway = new Gateway({
    config,
    log: silentLog,
    version: 't',
    listen: false,
    boards: new Map([['sim', board]]),
    uplink: { reconnectMinMs: 100, reconnectMaxMs: 300 },
  });
  const events: JournaledEvent[] = [];
  await gateway.start();
  cleanups.push(() => gateway.stop());
  gateway.journal?.onAppend((ev) => void events.push(ev));
  const replies = await subscribe(broker.port, `${PREFIX}/cmd/reply`);
  cleanups.push(() => replies.stop());
  await until('uplink connected', () => gateway.uplink?.connected === true);
  if (opts.beforeGateway) await until('the reply to the retained command', () => replies.messages.length > 0);
  await new Promise((r) => setTimeout(r, 100)); // the command subscription
  let n = 0;
  const send = async (cmd: Record<string, unknown> | string, publishOpts: { retain?: boolean } = {}) => {
    const before = replies.messages.length;
    const payload = typeof cmd === 'string' ? cmd : JSON.stringify(cmd);
    await replies.client.publishAsync(`${PREFIX}/cmd`, payload, { qos: 1, ...publishOpts });
    await until('a reply', () => replies.messages.length > before);
    n++;
    return JSON.parse(replies.messages[before]!.payload) as Record<string, unknown>;
  };
  const future = () => new Date(Date.now() + 30_000).toISOString();
  const signed = (cmd: Record<string, unknown>) => ({ ...cmd, sig: signCommand(cmd, KEY) });
  return { gateway, board, events, send, future, signed, broker, replies, dir, sent: () => n };
}

describe('remote commands on P/cmd', () => {
  it('a reply is published only once the command and what it did are committed to the journal', async () => {
    const { gateway, send, future, replies, board, events } = await setup();
    const seen: Array<{ durable: number; pinAtReply: number }> = [];
    replies.client.on('message', () => void seen.push({ durable: gateway.journal!.durable, pinAtReply: board.read(5) }));
    for (let i = 0; i < 5; i++)
      expect(await send({ id: `c-durable-${i}`, action: 'open', device: 'gate-north', expiresAt: future() })).toEqual({ id: `c-durable-${i}`, ok: true });
    const audits = events.filter((e) => e.type === 'audit.command');
    expect(audits).toHaveLength(5);
    const opened = events.filter((e) => e.type === 'barrier.opened');
    expect(opened.length).toBeGreaterThan(0);
    // Each reply saw its own audit event (and the barrier's) already on disk.
    seen.forEach((s, i) => expect(s.durable).toBeGreaterThanOrEqual(audits[i]!.seq));
    expect(seen[0]!.durable).toBeGreaterThanOrEqual(opened[0]!.seq);
  });

  it('opens a gate, once, and audits it', async () => {
    const t = await setup();
    const cmd = { id: 'c-1', action: 'open', device: 'gate-north', expiresAt: t.future(), by: 'platform-user-7' };
    expect(await t.send(cmd)).toEqual({ id: 'c-1', ok: true });
    expect(t.board.historyOf(5).map(([, v]) => v)).toEqual([0, 1]);
    expect(await t.send(cmd)).toEqual({ id: 'c-1', ok: false, error: 'replayed', message: 'command c-1 was received before' });
    await until('audit', () => t.events.filter((e) => e.type === 'audit.command').length === 2);
    expect(t.events.filter((e) => e.type === 'audit.command').map((e) => e.data)).toEqual([
      { id: 'c-1', action: 'open', by: 'platform-user-7', device: 'gate-north', ok: true },
      { id: 'c-1', action: 'open', ok: false, error: 'replayed' }, // the replay is on record too
    ]);
    expect(t.events.find((e) => e.type === 'barrier.opened')?.data).toEqual({ by: 'remote', user: 'platform-user-7' });
  });

  it('refuses expired commands and does nothing', async () => {
    const t = await setup();
    const reply = await t.send({ id: 'c-old', action: 'open', device: 'gate-north', expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(reply).toMatchObject({ id: 'c-old', ok: false, error: 'expired' });
    expect(t.board.historyOf(5)).toHaveLength(1);
  });

  it('ignores retained commands: a retained "open" left on the broker never opens the gate on (re)connect', async () => {
    const cmd = { id: 'c-ret', action: 'open', device: 'gate-north', expiresAt: new Date(Date.now() + 60_000).toISOString() };
    const t = await setup({
      beforeGateway: async (port) => {
        const platform = await subscribe(port, 'nothing');
        await platform.client.publishAsync(`${PREFIX}/cmd`, JSON.stringify(cmd), { qos: 1, retain: true });
        await platform.stop();
      },
    });
    expect(JSON.parse(t.replies.messages[0]!.payload)).toEqual({ id: 'c-ret', ok: false, error: 'retained', message: 'retained commands are ignored' });
    expect(t.board.historyOf(5)).toHaveLength(1);
    expect(t.events.filter((e) => e.type === 'audit.command').map((e) => e.data)).toEqual([{ id: 'c-ret', action: 'open', ok: false, error: 'retained' }]);
  });

  it('with commandKey: refuses unsigned and badly signed commands, accepts signed ones', async () => {
    const t = await setup({ key: true });
    const cmd = { id: 'c-s', action: 'open', device: 'gate-north', expiresAt: t.future(), by: 'p7' };
    expect(await t.send(cmd)).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(await t.send({ ...cmd, sig: signCommand(cmd, 'another key') })).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(await t.send({ ...t.signed(cmd), device: 'gate-south' })).toMatchObject({ ok: false, error: 'bad-signature' }); // tampered
    expect(t.board.historyOf(5)).toHaveLength(1);
    // a forged command does not use up the id
    expect(await t.send(t.signed(cmd))).toEqual({ id: 'c-s', ok: true });
    expect(t.board.historyOf(5).map(([, v]) => v)).toEqual([0, 1]);
  });

  it('answers unknown devices, unknown actions, unsafe closes and bad bodies with the reason', async () => {
    const t = await setup();
    const f = t.future();
    expect(await t.send({ id: 'u1', action: 'open', device: 'nope', expiresAt: f })).toMatchObject({ ok: false, error: 'unknown-device' });
    expect(await t.send({ id: 'u2', action: 'launch', expiresAt: f })).toMatchObject({ ok: false, error: 'unknown-action' });
    t.board.setInput(13, 1);
    expect(await t.send({ id: 'u3', action: 'close', device: 'gate-north', expiresAt: f })).toMatchObject({ ok: false, error: 'unsafe' });
    expect(t.board.historyOf(6)).toHaveLength(1);
    expect(await t.send('not json')).toMatchObject({ id: null, ok: false, error: 'invalid' });
    expect(await t.send('[1,2]')).toMatchObject({ id: null, ok: false, error: 'invalid' });
    expect(await t.send({ action: 'ping' })).toMatchObject({ id: null, ok: false, error: 'invalid', message: 'id: expected a string of 1-128 characters' });
    expect(await t.send({ id: 'u4', action: 'ping', expiresAt: 'tomorrow' })).toMatchObject({ ok: false, error: 'invalid' });
    expect(await t.send({ id: 'u5', action: 'ping', expiresAt: f })).toEqual({ id: 'u5', ok: true });
  });

  it('syncs plates with versions: an older version never overwrites a newer one', async () => {
    const t = await setup();
    const f = t.future();
    expect(await t.send({ id: 'p1', action: 'plates.replace', version: 7, plates: [{ plate: '粤A11111' }, { plate: '粤a 22222' }], expiresAt: f })).toEqual({
      id: 'p1',
      ok: true,
      version: 7,
      count: 2,
    });
    expect(await t.send({ id: 'p2', action: 'plates.replace', version: 6, plates: [], expiresAt: f })).toMatchObject({ ok: false, error: 'stale-version' });
    expect(await t.send({ id: 'p3', action: 'plates.upsert', version: 8, plates: [{ plate: '粤A33333', lanes: ['gate-north'] }], expiresAt: f })).toMatchObject(
      { ok: true, version: 8 },
    );
    expect(await t.send({ id: 'p4', action: 'plates.remove', plates: ['粤A11111'], expiresAt: f })).toMatchObject({ ok: true, count: 1 });
    expect(await t.send({ id: 'p5', action: 'plates.upsert', plates: [{ plate: 'x'.repeat(40) }], expiresAt: f })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    expect(
      t.gateway.access.plates
        .list()
        .map((e) => e.plate)
        .sort(),
    ).toEqual(['粤A22222', '粤A33333']);
  });

  it('syncs cards and revokes visitor passes by signed commands; a revocation is on disk before its reply', async () => {
    const t = await setup({ key: true });
    const f = t.future();
    expect(
      await t.send(
        t.signed({
          id: 'k1',
          action: 'cards.replace',
          version: 3,
          cards: [{ card: '0012345678', schedule: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }] }],
          expiresAt: f,
        }),
      ),
    ).toEqual({ id: 'k1', ok: true, version: 3, count: 1 });
    expect(await t.send(t.signed({ id: 'k2', action: 'cards.upsert', version: 2, cards: [{ card: '99' }], expiresAt: f }))).toMatchObject({
      ok: false,
      error: 'stale-version',
    });
    expect(await t.send(t.signed({ id: 'k3', action: 'cards.upsert', cards: [{ card: 'not a card' }], expiresAt: f }))).toMatchObject({
      ok: false,
      error: 'invalid',
      message: expect.stringContaining('cards[0].card'),
    });
    expect(await t.send(t.signed({ id: 'k4', action: 'cards.remove', cards: ['12345678'], version: 4, expiresAt: f }))).toEqual({
      id: 'k4',
      ok: true,
      version: 4,
      count: 1,
    });
    expect(t.gateway.access.credentials.cards.version).toBe(4);
    // unsigned: refused, nothing revoked
    expect(await t.send({ id: 'r0', action: 'passes.revoke', passes: ['v-1'], expiresAt: f })).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(await t.send(t.signed({ id: 'r1', action: 'passes.revoke', passes: ['v-1', 'v-2'], expiresAt: f }))).toEqual({ id: 'r1', ok: true, count: 2 });
    expect(await t.send(t.signed({ id: 'r2', action: 'passes.revoke', passes: [], expiresAt: f }))).toMatchObject({ ok: false, error: 'invalid' });
    // the reply came after the revocation was written: it is in passes.json already
    const saved = JSON.parse(readFileSync(join(t.dir, 'passes.json'), 'utf8')) as { revoked: Array<[string, number]> };
    expect(saved.revoked.map(([id]) => id).sort()).toEqual(['v-1', 'v-2']);
    expect(t.events.filter((e) => e.type === 'audit.command').map((e) => [(e.data as { action: string }).action, (e.data as { ok: boolean }).ok])).toEqual([
      ['cards.replace', true],
      ['cards.upsert', false],
      ['cards.upsert', false],
      ['cards.remove', true],
      ['passes.revoke', false],
      ['passes.revoke', true],
      ['passes.revoke', false],
    ]);
  });

  it('lets the platform decide on a visitor held under ask', async () => {
    const t = await setup();
    const camera = t.gateway.pushSources.get('cam')!;
    camera.handlePush(Buffer.from('{"plate":"粤A77777"}'), 'application/json', '/lpr/cam', '127.0.0.1');
    const [waiting] = t.gateway.access.waiting();
    expect(await t.send({ id: 'v1', action: 'visitor.allow', pendingId: waiting!.id, expiresAt: t.future(), by: 'p7' })).toEqual({ id: 'v1', ok: true });
    expect(t.board.historyOf(5).map(([, v]) => v)).toEqual([0, 1]);
    expect(await t.send({ id: 'v2', action: 'visitor.deny', pendingId: waiting!.id, expiresAt: t.future() })).toMatchObject({
      ok: false,
      error: 'unknown-pending',
    });
  });

  it('remembers command ids across a restart, so a replay after a reboot does nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-cmd-'));
    const board = new SimBoard('sim', { clock: systemClock });
    const cmd = { id: 'c-reboot', action: 'open', device: 'gate-north', expiresAt: new Date(Date.now() + 60_000).toISOString() };
    const first = await setup({ dataDir: dir });
    expect(await first.send(cmd)).toMatchObject({ ok: true });
    for (const c of cleanups.splice(0).reverse()) await c();
    const second = await setup({ dataDir: dir, board });
    expect(await second.send(cmd)).toMatchObject({ ok: false, error: 'replayed' });
    expect(board.historyOf(5)).toHaveLength(1);
  });

  it('10,000 fuzzed command payloads: only refusal replies or accepted pings, the gateway carries on', async () => {
    const t = await setup({ key: true });
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const values = [
      null,
      true,
      0,
      -1,
      1e308,
      'x',
      '',
      'open',
      'close',
      'gate-north',
      [],
      {},
      [1, [2]],
      { a: { b: 1 } },
      'x'.repeat(300),
      '2026-11-22T02:00:30Z',
      '\u0000',
      '\ud800',
    ];
    const keys = ['id', 'action', 'device', 'expiresAt', 'by', 'sig', 'plates', 'version', 'pendingId', '__proto__', 'constructor'];
    const base = JSON.stringify({ id: 'f', action: 'open', device: 'gate-north', expiresAt: t.future(), sig: '0'.repeat(64) });
    const payloads: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const r = rnd();
      if (r < 0.4) {
        const o: Record<string, unknown> = {};
        for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) o[pick(keys)] = pick(values);
        payloads.push(JSON.stringify(o));
      } else if (r < 0.8) {
        const chars = [...base];
        for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 128));
        payloads.push(chars.join(''));
      } else {
        payloads.push(base.slice(0, Math.floor(rnd() * base.length)));
      }
    }
    const before = t.replies.messages.length;
    for (const p of payloads) t.replies.client.publish(`${PREFIX}/cmd`, p, { qos: 1 });
    await until('10,000 replies', () => t.replies.messages.length >= before + 10_000, 60_000);
    const replies = t.replies.messages.slice(before).map((m) => JSON.parse(m.payload) as { ok: boolean; error?: string });
    expect(replies.filter((r) => r.ok)).toEqual([]); // nothing unsigned gets through
    const errors = new Set(replies.map((r) => r.error));
    expect([...errors].every((e) => ['invalid', 'bad-signature'].includes(e!))).toBe(true);
    expect(t.board.historyOf(5)).toHaveLength(1);
    // and a good command still works
    const cmd = { id: 'after-fuzz', action: 'open', device: 'gate-north', expiresAt: t.future() };
    expect(await t.send(t.signed(cmd))).toEqual({ id: 'after-fuzz', ok: true });
  }, 90_000);
});

describe('refused commands on record', () => {
  it('a command over the size limit is answered invalid (too large) under its id and audited, and nothing acts', async () => {
    const { send, future, events, board } = await setup();
    const big = { id: 'c-big', action: 'config.apply', version: 9, expiresAt: future(), config: `# ${'x'.repeat(5 * 1024 * 1024)}\n` };
    const reply = await send(big);
    expect(reply).toMatchObject({
      id: 'c-big',
      ok: false,
      error: 'invalid',
      message: expect.stringMatching(/^too large: the command is \d+ bytes; commands are limited to 4194304/),
    });
    await until('the refusal audited', () => events.some((e) => e.type === 'audit.command' && (e.data as { id: string }).id === 'c-big'));
    expect(events.find((e) => e.type === 'audit.command' && (e.data as { id: string }).id === 'c-big')!.data).toEqual({
      id: 'c-big',
      action: 'config.apply',
      ok: false,
      error: 'invalid',
    });
    // the gateway goes on: the next command is done
    expect(await send({ id: 'c-after', action: 'open', device: 'gate-north', expiresAt: future() })).toEqual({ id: 'c-after', ok: true });
    expect(board.read(5)).toBe(1);
  });

  it('each refusal is an audit.command with ok false and the reason, at most 20 a minute, the rest counted into the next', async () => {
    const { RemoteCommands } = await import('../gateway/remote.js');
    const { AccessControl } = await import('../access/access.js');
    let now = Date.parse('2026-11-22T00:00:00Z');
    const clock = { now: () => now, setTimeout: () => 0 as never, clearTimeout: () => undefined };
    const config = siteConfig({});
    const access = new AccessControl({ config, dataDir: undefined, clock, log: silentLog, onPendingDecided: () => undefined });
    const audits: unknown[] = [];
    const remote = new RemoteCommands({
      key: Buffer.from(KEY),
      dataDir: undefined,
      clock,
      log: silentLog,
      devices: new Map(),
      access,
      audit: (a) => void audits.push(a),
    });
    const forged = (i: number) => remote.handle(Buffer.from(JSON.stringify({ id: `x-${i}`, action: 'open', device: 'gate', sig: '0'.repeat(64) })), false);
    for (let i = 0; i < 30; i++) expect(forged(i)).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(remote.handle(Buffer.from('{"id": 1'), false)).toMatchObject({ ok: false, error: 'invalid' });
    expect(audits).toHaveLength(20);
    expect(audits[0]).toEqual({ id: 'x-0', action: 'open', ok: false, error: 'bad-signature' });
    now += 60_000;
    forged(99);
    expect(audits).toHaveLength(21);
    expect(audits[20]).toEqual({ id: 'x-99', action: 'open', ok: false, error: 'bad-signature', suppressed: 11 });
    // A signed, accepted command is audited as before, whatever the rate of refusals.
    const cmd = { id: 'ok-1', action: 'ping' };
    expect(remote.handle(Buffer.from(JSON.stringify({ ...cmd, sig: signCommand(cmd, KEY) })), false)).toEqual({ id: 'ok-1', ok: true });
    expect(audits[21]).toEqual({ id: 'ok-1', action: 'ping', ok: true });
  });
});
