/**
 * Remote commands are a table (gateway/commands.ts): a bad field is refused `invalid` naming the
 * field before anything acts, whatever its type; and docs/api.md's table is the table's own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandsTable, runCommand } from '../gateway/commands.js';
import type { CommandContext } from '../gateway/commands.js';

const acted: string[] = [];
const ctx: CommandContext = {
  id: 'c1',
  by: undefined,
  devices: new Map(),
  access: new Proxy({}, { get: (_t, key) => (acted.push(`access.${String(key)}`), () => undefined) }) as never,
  config: { get: () => (acted.push('config.get'), { version: 0, sha256: '' }), apply: () => (acted.push('config.apply'), { ok: true }) } as never,
  upgrade: { start: () => (acted.push('upgrade'), { ok: true }) } as never,
};

describe('remote commands', () => {
  it.each([
    ['open', {}, 'device: expected the id of a device'],
    ['close', { device: 7 }, 'device: expected the id of a device'],
    ['passes.revoke', { passes: 'v-1' }, 'passes: expected a list of 1-1000 pass ids'],
    ['passes.revoke', { passes: [] }, 'passes: expected a list of 1-1000 pass ids'],
    ['passes.revoke', { passes: ['v-1'], until: 'soon' }, 'until: expected an ISO 8601 time such as 2026-11-22T02:00:30Z'],
    ['visitor.allow', { pendingId: { $ne: null } }, 'pendingId: expected the id of a waiting vehicle'],
    ['config.apply', { config: { site: { id: 's' } }, version: 2 }, 'config: expected the whole site file (YAML or JSON) as a string'],
    ['config.apply', { config: 12, version: 2 }, 'config: expected the whole site file (YAML or JSON) as a string'],
  ] as const)('%s with %j is refused invalid, naming the field, and nothing acts', (action, fields, message) => {
    acted.length = 0;
    expect(runCommand(action, { id: 'c1', action, ...fields }, ctx)).toMatchObject({ id: 'c1', ok: false, error: 'invalid', message });
    expect(acted).toEqual([]);
  });

  it('a command with good fields reaches its action', () => {
    acted.length = 0;
    expect(runCommand('config.apply', { id: 'c1', action: 'config.apply', config: 'site: {}', version: 2 }, ctx)).toEqual({
      id: 'c1',
      ok: true,
      deferred: true,
    });
    expect(runCommand('open', { id: 'c1', action: 'open', device: 'nope' }, ctx)).toMatchObject({ ok: false, error: 'unknown-device' });
    expect(acted).toEqual(['config.apply']);
  });

  it("docs/api.md's table of commands is made from the table (npm run docs)", () => {
    const docs = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    expect(docs).toContain(commandsTable());
  });
});
