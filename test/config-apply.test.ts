/**
 * Remote configuration end to end: the real process, commands over a real broker (aedes), the
 * site file on disk. A good config runs and is confirmed; a bad one is refused with validate's
 * lines and changes nothing; one that leaves a device faulted is rolled back by itself with the
 * reason upstream; a power cut during the trial brings the gateway back on the last good config.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatewayProcess, siteFile } from './helpers.js';
import type { GatewayProcess } from './helpers.js';
import { startAedes, subscribe, until } from './peers/broker.js';
import type { Subscriber } from './peers/broker.js';
import { freePort } from './peers/modbus.js';

const PREFIX = 'estate/cfg/gw-1';
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function site(mqttPort: number, httpPort: number, devices: string, extra = ''): string {
  return `site: { id: cfg }
gateway: { id: gw-1, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${mqttPort}" } }
console: { listen: "127.0.0.1:${httpPort}" }
io:
  - { id: sim, type: sim }
${extra}devices:
${devices}`;
}
const DOOR_A = '  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }\n';
const DOOR_B = '  - { id: door-b, type: door, lock: { io: sim, pin: 2 }, lockType: fail-secure }\n';

async function setup() {
  const broker = await startAedes();
  cleanups.push(() => broker.stop());
  const { file, port } = await siteFile((p) => site(broker.port, p, DOOR_A));
  const platform = await subscribe(broker.port, `${PREFIX}/#`);
  cleanups.push(() => platform.stop());
  let gateway: GatewayProcess = await runGatewayProcess(file, port);
  cleanups.push(() => gateway.stop());
  await until('online', () => platform.messages.some((m) => m.topic === `${PREFIX}/status` && m.payload.includes('"online":true')));
  let n = 0;
  const command = async (cmd: Record<string, unknown>, ms = 15_000) => {
    const id = `cfg-${++n}`;
    await platform.client.publishAsync(`${PREFIX}/cmd`, JSON.stringify({ id, ...cmd }), { qos: 1 });
    await until(`the reply to ${id}`, () => replies(platform).some((r) => r['id'] === id), ms);
    return replies(platform).find((r) => r['id'] === id)!;
  };
  const health = async () => (await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as { devices: { ok: number; fault: number } };
  return {
    file,
    port,
    platform,
    command,
    health,
    mqttPort: broker.port,
    gateway: () => gateway,
    restart: async () => {
      gateway = await runGatewayProcess(file, port);
    },
  };
}

const replies = (s: Subscriber) => s.messages.filter((m) => m.topic === `${PREFIX}/cmd/reply`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
const audits = (s: Subscriber) =>
  s.messages.filter((m) => m.topic === `${PREFIX}/events/audit.config`).map((m) => (JSON.parse(m.payload) as { data: Record<string, unknown> }).data);

describe('config.apply and config.get', () => {
  it('applies a good config (devices re-created, confirmed after the deadline), refuses a bad or stale one with nothing changed', async () => {
    const t = await setup();
    const original = readFileSync(t.file, 'utf8');
    expect(await t.command({ action: 'config.get' })).toEqual({ id: 'cfg-1', ok: true, version: 0, sha256: sha(original) });

    // A config that fails validation: validate's lines, nothing changed.
    const bad = site(t.mqttPort, t.port, '  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure, unlokMs: 3000 }\n');
    expect(await t.command({ action: 'config.apply', version: 1, config: bad })).toEqual({
      id: 'cfg-2',
      ok: false,
      error: 'invalid',
      message: 'the config has 1 problem(s)',
      problems: ['devices[0].unlokMs: unknown key; did you mean "unlockMs"?'],
    });
    expect(readFileSync(t.file, 'utf8')).toBe(original);

    // A good one: a second door; answered once it runs.
    const good = site(t.mqttPort, t.port, DOOR_A + DOOR_B);
    expect(await t.command({ action: 'config.apply', version: 1, config: good, deadlineSec: 2 })).toEqual({ id: 'cfg-3', ok: true, version: 1 });
    expect(readFileSync(t.file, 'utf8')).toBe(good);
    expect((await t.health()).devices).toEqual({ ok: 2, fault: 0 });
    await until('confirmed', () => audits(t.platform).some((a) => a['phase'] === 'confirmed'), 10_000);
    expect(await t.command({ action: 'config.get' })).toEqual({ id: 'cfg-4', ok: true, version: 1, sha256: sha(good) });
    expect(await t.command({ action: 'config.apply', version: 1, config: good })).toMatchObject({ id: 'cfg-5', ok: false, error: 'stale-version' });
    // JSON is accepted too, and the names of the gateway cannot change.
    const renamed = JSON.stringify({ site: { id: 'cfg' }, gateway: { id: 'gw-2', dataDir: './data' }, io: [{ id: 'sim', type: 'sim' }] });
    expect(await t.command({ action: 'config.apply', version: 2, config: renamed })).toMatchObject({
      ok: false,
      error: 'invalid',
      problems: ['gateway.id: cannot be changed by config.apply (running "gw-1")'],
    });

    expect(audits(t.platform).map((a) => [a['action'], a['ok'], a['phase'] ?? a['error'], a['version']])).toEqual([
      ['config.get', true, undefined, 0],
      ['config.apply', false, 'invalid', 0],
      ['config.apply', true, 'applying', 1],
      ['config.apply', true, 'applied', 1],
      ['config.apply', true, 'confirmed', 1],
      ['config.get', true, undefined, 1],
      ['config.apply', false, 'stale-version', 1],
      ['config.apply', false, 'invalid', 1],
    ]);
  }, 60_000);

  it('while one config is on trial: an older version is stale, a bad file is invalid with its problems, a good newer one is busy', async () => {
    const t = await setup();
    expect(await t.command({ action: 'config.apply', version: 5, config: site(t.mqttPort, t.port, DOOR_A + DOOR_B), deadlineSec: 600 })).toEqual({
      id: 'cfg-1',
      ok: true,
      version: 5,
    });
    expect(await t.command({ action: 'config.apply', version: 5, config: site(t.mqttPort, t.port, DOOR_A) })).toMatchObject({
      ok: false,
      error: 'stale-version',
      message: expect.stringMatching(/version 5, on trial now/),
    });
    const bad = site(t.mqttPort, t.port, '  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure, unlokMs: 3000 }\n');
    expect(await t.command({ action: 'config.apply', version: 6, config: bad })).toMatchObject({
      ok: false,
      error: 'invalid',
      problems: ['devices[0].unlokMs: unknown key; did you mean "unlockMs"?'],
    });
    expect(await t.command({ action: 'config.apply', version: 6, config: site(t.mqttPort, t.port, DOOR_A) })).toMatchObject({
      ok: false,
      error: 'busy',
      onTrial: 5,
    });
    expect((await t.health()).devices).toEqual({ ok: 2, fault: 0 }); // still on the trial's config
  }, 60_000);

  it('a config that applies but leaves a device faulted is rolled back by itself, with the reason upstream', async () => {
    const t = await setup();
    const original = readFileSync(t.file, 'utf8');
    // door-a moves to a Modbus relay board on a bus nobody answers: it faults.
    const deadPort = await freePort();
    const faulty = site(
      t.mqttPort,
      t.port,
      '  - { id: door-a, type: door, lock: { io: relays, pin: 1 }, lockType: fail-secure }\n',
      `  - { id: relays, type: modbus-relay, bus: dead, unit: 1, channels: 8 }\nbuses:\n  - { id: dead, type: tcp, host: 127.0.0.1, port: ${deadPort}, timeoutMs: 200, retries: 0 }\n`,
    );
    expect(await t.command({ action: 'config.apply', version: 1, config: faulty, deadlineSec: 2 })).toEqual({ id: 'cfg-1', ok: true, version: 1 });
    await until('rolled back', () => audits(t.platform).some((a) => a['rolledBack'] === true), 20_000);
    const rolled = audits(t.platform).find((a) => a['rolledBack'] === true)!;
    expect(rolled).toMatchObject({ id: 'cfg-1', action: 'config.apply', ok: false, version: 1, runningVersion: 0, sha256: sha(original) });
    expect(rolled['reason']).toMatch(/^not healthy 2 s after the apply: door-a faulted \(BOARD_OFFLINE\)/);
    expect(readFileSync(t.file, 'utf8')).toBe(original);
    for (let i = 0; i < 100 && (await t.health()).devices.fault !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await t.health()).devices).toEqual({ ok: 1, fault: 0 });
    expect(await t.command({ action: 'config.get' })).toMatchObject({ ok: true, version: 0, sha256: sha(original) });
  }, 60_000);

  it('a config whose Firmata board is not plugged in is answered, runs with that board faulted, and is judged at its deadline', async () => {
    const t = await setup();
    const original = readFileSync(t.file, 'utf8');
    // door-a moves to an Arduino whose USB cable is out (this once ended the process after "applying")
    const unplugged = site(
      t.mqttPort,
      t.port,
      '  - { id: door-a, type: door, lock: { io: uno, pin: 4 }, lockType: fail-secure }\n' + DOOR_B,
      '  - { id: uno, type: firmata, port: /dev/eg-test-ttyNOPE0 }\n',
    );
    expect(await t.command({ action: 'config.apply', version: 1, config: unplugged, deadlineSec: 2 })).toEqual({ id: 'cfg-1', ok: true, version: 1 });
    expect((await t.health()).devices).toEqual({ ok: 1, fault: 1 }); // door-b on the sim board runs; door-a waits for its board
    await until('judged', () => audits(t.platform).some((a) => a['rolledBack'] === true), 20_000);
    expect(audits(t.platform).find((a) => a['rolledBack'] === true)!['reason']).toMatch(/door-a faulted \(BOARD_OFFLINE\)/);
    expect(t.gateway().exited()).toBe(false);
    expect(t.gateway().stderr()).not.toMatch(/uncaught/i);
    expect(readFileSync(t.file, 'utf8')).toBe(original);
  }, 60_000);

  it('a power cut during the trial brings the gateway back on the last good config; an edit by hand is noticed', async () => {
    const t = await setup();
    const original = readFileSync(t.file, 'utf8');
    const next = site(t.mqttPort, t.port, DOOR_A + DOOR_B);
    expect(await t.command({ action: 'config.apply', version: 1, config: next, deadlineSec: 60 })).toEqual({ id: 'cfg-1', ok: true, version: 1 });
    t.gateway().child.kill('SIGKILL');
    await new Promise((r) => t.gateway().child.once('exit', r));
    expect(readFileSync(t.file, 'utf8')).toBe(next); // the trial's config was on disk at the cut
    await t.restart();
    expect(readFileSync(t.file, 'utf8')).toBe(original);
    expect((await t.health()).devices).toEqual({ ok: 1, fault: 0 });
    await until('the rollback reported', () => audits(t.platform).some((a) => a['rolledBack'] === true), 15_000);
    expect(audits(t.platform).find((a) => a['rolledBack'] === true)).toMatchObject({
      id: 'cfg-1',
      version: 1,
      runningVersion: 0,
      reason: expect.stringMatching(/restarted before the new config was proven healthy/),
    });
    expect(await t.command({ action: 'config.get' })).toMatchObject({ version: 0, sha256: sha(original) });

    // Edited by hand while stopped: reported when the gateway starts again.
    await t.gateway().stop();
    const edited = `${original}# a note from the installer\n`;
    writeFileSync(t.file, edited);
    await t.restart();
    await until('the edit reported', () => audits(t.platform).some((a) => a['action'] === 'edited-on-disk'), 15_000);
    expect(audits(t.platform).find((a) => a['action'] === 'edited-on-disk')).toEqual({
      action: 'edited-on-disk',
      ok: true,
      version: 0,
      sha256: sha(edited),
      previousSha256: sha(original),
    });
  }, 60_000);
});
