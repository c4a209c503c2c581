/**
 * `estate-gateway pass check TOKEN`: an installer or the platform checks a visitor pass offline,
 * against the site's pass key and what this gateway has recorded, without using it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signPass } from '../access/passes.js';
import { passCheckCommand } from '../cli/commands/pass.js';

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const NOW = Date.parse('2026-12-07T10:00:00Z');

function site(used: Array<[string, number, number]> = [], revoked: Array<[string, number]> = []) {
  const dir = mkdtempSync(join(tmpdir(), 'eg-pass-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'passes.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'data', 'passes.json'), JSON.stringify({ used, revoked }));
  writeFileSync(
    join(dir, 'site.yaml'),
    `site: { id: s }\ngateway: { id: g, dataDir: ./data }\naccess: { passes: { publicKey: ./passes.pub } }\nio: [{ id: sim, type: sim }]\ndevices:\n  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }\n`,
  );
  return join(dir, 'site.yaml');
}

function check(configFile: string, token: string, door?: string) {
  const lines: string[] = [];
  const code = passCheckCommand({ configFile, token, door, now: NOW }, { stdout: (l) => void lines.push(l), stderr: (l) => void lines.push(l) });
  return { code, text: lines.join('\n') };
}

const pass = (over: Record<string, unknown> = {}) =>
  signPass({ id: 'v-1', doors: ['lobby'], from: NOW / 1000 - 60, until: NOW / 1000 + 3600, uses: 2, name: '王五', ...over } as never, keys.privateKey);

describe('pass check', () => {
  it('says who, where, when and how many uses, and that it would open, using none', () => {
    const file = site([['v-1', 1, NOW + 1e9]]);
    const r = check(file, pass(), 'lobby');
    expect(r.code).toBe(0);
    expect(r.text).toContain("pass v-1 (王五): signed by the site's pass key");
    expect(r.text).toContain('uses: 2, 1 recorded by this gateway');
    expect(r.text).toContain('would open lobby now (1 use(s) left); this check used none');
  });

  it.each([
    ['another door', () => check(site(), pass(), 'garage'), 'refused now: it is not for garage'],
    ['expired', () => check(site(), pass({ until: NOW / 1000 - 1 })), 'refused now: it expired at'],
    ['not yet valid', () => check(site(), pass({ from: NOW / 1000 + 60 })), 'refused now: it is not valid until'],
    ['used up', () => check(site([['v-1', 2, NOW + 1e9]]), pass()), 'refused now: its uses are used up'],
    ['revoked', () => check(site([], [['v-1', NOW + 1e9]]), pass()), 'refused now: it was revoked'],
    [
      'signed by another key',
      () => check(site(), signPass({ id: 'v-9', doors: ['lobby'], from: 0, until: 9e9, uses: 1 } as never, other.privateKey)),
      'refused: not signed by the pass key',
    ],
    ['not a pass', () => check(site(), 'hello'), 'refused: not a visitor pass'],
  ])('refuses a pass %s, naming why, exit 1', (_what, run, message) => {
    const r = run();
    expect(r.code).toBe(1);
    expect(r.text).toContain(message);
  });
});
