/**
 * docs/development.md's recipe for a new device kind is true: a copy of the source gets one new
 * folder (devices/chime/: a bell that staff ring from the console and an intercom panel rings by
 * an HTTP push) and one line in the table of kinds, and nothing else. The copy then validates a
 * site with a chime (its own keys, its pins in the cross-checks), runs it on a sim board, lists it
 * in /api/health under its own group, serves its words and card on /api/kinds, routes its pushes,
 * and runs its doctor checks.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = ['core', 'schema', 'drivers', 'access', 'devices', 'config', 'journal', 'uplink', 'http', 'gateway', 'console', 'types'];

const CHIME_INDEX = `
import { z } from 'zod';
import { addressOrCidr, displayName, pinRef } from '../../schema/sections.js';
import { id, millis } from '../../schema/units.js';
import { kind } from '../kind.js';

export const chime = z.strictObject({
  id,
  type: z.literal('chime'),
  name: displayName,
  bell: pinRef,
  ringMs: millis(100, 10_000).default(1000),
  allowFrom: z.array(addressOrCidr).default(['127.0.0.1']),
});

export const CHIME = kind({
  schema: chime,
  pins: (d) => [{ role: 'bell', direction: 'out', ref: d.bell }],
  lane: false,
  door: false,
  references: null,
  states: ['quiet', 'ringing'],
  events: [],
  words: {
    'zh-CN': { name: '门铃', states: { quiet: '静音', ringing: '响铃中' }, actions: { open: '响铃', close: '停止' } },
    en: { name: 'chime', states: { quiet: 'quiet', ringing: 'ringing' }, actions: { open: 'Ring', close: 'Stop' } },
  },
  card: [],
  health: { group: 'chimes', always: false },
  doctor: async (chimes) => chimes.map((c) => ({ name: 'chime ' + c.id, result: 'ok', detail: 'bell on ' + c.bell.io + ':' + c.bell.pin })),
  push: { path: 'chime', what: 'chime' },
  load: async () => {
    const { Chime } = await import('./chime.js');
    return { create: (c, ctx) => new Chime(c, ctx) };
  },
});
`;

const CHIME_CLASS = `
import { DeviceBase } from '../base.js';
import { AllowList } from '../push.js';
import { accepted } from '../types.js';

export class Chime extends DeviceBase {
  type = 'chime';
  counts = { read: 0, heartbeat: 0, ignored: 0, malformed: 0, refused: 0, 'too-large': 0, suppressed: 0 };
  ringing = false;
  constructor(config, ctx) {
    super(ctx);
    this.config = config;
    this.id = config.id;
    this.bell = this.output(config.bell, 'bell');
    this.allowed = new AllowList(config.allowFrom);
  }
  applySafeState() { this.release(this.bell); }
  start() {}
  stop() { this.release(this.bell); }
  fireAlarmChanged() {}
  command(action) {
    if (action === 'open') {
      this.ringing = true;
      this.pulse(this.bell, this.config.ringMs);
      this.ctx.clock.setTimeout(() => { this.ringing = false; }, this.config.ringMs);
    } else {
      this.ringing = false;
      this.release(this.bell);
    }
    return accepted;
  }
  snapshot() { return this.snapshotOf(this.config.name, this.ringing ? 'ringing' : 'quiet'); }
  health() { return { state: this.ringing ? 'ringing' : 'quiet' }; }
  accepts(address) { return this.allowed.accepts(address); }
  count(result) { this.counts[result]++; }
  handlePush() {
    this.count('read');
    this.command('open');
    return { status: 200, contentType: 'application/json', body: '{"rung":true}' };
  }
}
`;

const copy = mkdtempSync(join(tmpdir(), 'eg-recipe-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** The copy with the recipe applied: a folder, and a line (with its import) in the table. */
function applyRecipe(): void {
  for (const dir of SOURCE) cpSync(join(ROOT, dir), join(copy, dir), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  mkdirSync(join(copy, 'devices/chime'));
  writeFileSync(join(copy, 'devices/chime/index.ts'), CHIME_INDEX);
  writeFileSync(join(copy, 'devices/chime/chime.ts'), CHIME_CLASS);
  const table = join(copy, 'devices/kinds.ts');
  const text = readFileSync(table, 'utf8');
  const withKind = text
    .replace("import { DOOR } from './door/index.js';", "import { DOOR } from './door/index.js';\nimport { CHIME } from './chime/index.js';")
    .replace('  door: DOOR,', '  door: DOOR,\n  chime: CHIME,');
  expect(withKind.split('\n').length).toBe(text.split('\n').length + 2);
  writeFileSync(table, withKind);
}

describe('the recipe for a new device kind', () => {
  it('a folder and a line in the table give a kind that validates, runs, reports, routes and is checked', async () => {
    applyRecipe();
    const { validateConfig } = (await import(join(copy, 'config/load.ts'))) as typeof import('../config/load.js');
    const { Gateway } = (await import(join(copy, 'gateway/main.ts'))) as typeof import('../gateway/main.js');
    const { SimBoard } = (await import(join(copy, 'drivers/io/sim.ts'))) as typeof import('../drivers/io/sim.js');
    const { UserStore } = (await import(join(copy, 'http/users.ts'))) as typeof import('../http/users.js');
    const { KINDS } = (await import(join(copy, 'devices/kinds.ts'))) as { KINDS: Record<string, import('../devices/kind.js').Kind> };
    const { createLogger } = (await import(join(copy, 'core/log.ts'))) as typeof import('../core/log.js');

    const dataDir = mkdtempSync(join(tmpdir(), 'eg-recipe-data-'));
    const site = (devices: unknown[]) => ({ site: { id: 's' }, gateway: { id: 'g', dataDir }, io: [{ id: 'sim', type: 'sim' }], devices });
    const door = { id: 'door', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' };

    // validation: its own keys, and its pins in the cross-checks
    const problems = (devices: unknown[]) => {
      const result = validateConfig(site(devices));
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems([door, { id: 'bell', type: 'chime', bell: { io: 'sim', pin: 9 }, ringMS: 500 }])).toEqual([
      'devices[1].ringMS: unknown key; did you mean "ringMs"?',
    ]);
    expect(problems([door, { id: 'bell', type: 'chime', bell: { io: 'sim', pin: 1 } }])).toEqual([
      'devices[1].bell.pin: output sim:1 (bell) is already driven by devices[0].lock (door)',
    ]);
    const good = validateConfig(site([door, { id: 'bell', type: 'chime', name: 'Lobby bell', bell: { io: 'sim', pin: 9 }, ringMs: 300 }]));
    if (!good.ok) throw new Error(JSON.stringify(good.problems));

    // it runs on a sim board, is commanded through the API and pushed to over HTTP
    const board = new SimBoard('sim', {});
    const gateway = new Gateway({
      config: good.config,
      log: createLogger({ level: 'silent' }),
      version: 'test',
      boards: new Map([['sim', board]]),
      listen: '127.0.0.1:0',
      journal: false,
    });
    await new UserStore(dataDir).add('ada', 'admin', 'correct horse battery');
    await gateway.start();
    try {
      const base = `http://127.0.0.1:${gateway.address!.port}`;
      const session = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ada', password: 'correct horse battery' }),
      });
      const { token } = (await session.json()) as { token: string };
      const auth = { authorization: `Bearer ${token}` };

      const kinds = (await (await fetch(`${base}/api/kinds`, { headers: auth })).json()) as {
        kinds: Record<string, { words: Record<string, { name: string }> }>;
      };
      expect(kinds.kinds['chime']?.words['zh-CN']?.name).toBe('门铃');

      const rung = await fetch(`${base}/api/devices/bell/open`, { method: 'POST', headers: auth });
      expect(rung.status).toBe(200);
      expect(board.historyOf(9).map(([, v]) => v)).toEqual([0, 1]);
      expect(gateway.health()['chimes']).toEqual({ bell: { state: 'ringing' } });

      const pushed = await fetch(`${base}/chime/bell`, { method: 'POST', body: 'ring' });
      expect([pushed.status, await pushed.text()]).toEqual([200, '{"rung":true}']);
      expect((await fetch(`${base}/chime/nobody`, { method: 'POST', body: 'ring' })).status).toBe(404);

      const checks = await KINDS['chime']!.doctor!(
        good.config.devices.filter((d) => (d.type as string) === 'chime'),
        {} as never,
      );
      expect(checks).toEqual([{ name: 'chime bell', result: 'ok', detail: 'bell on sim:9' }]);
    } finally {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
