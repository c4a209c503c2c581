/**
 * The real process: an account made with `estate-gateway user add` (password on stdin), then
 * 10,000 fuzzed API bodies on every route that takes one. Every answer is a 4xx (or a 2xx for
 * the rare mutation that is still valid), never a 5xx, and the process stays up.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGatewayProcess, siteFile } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));

describe('the API, fuzzed', () => {
  it('10,000 fuzzed bodies: only 2xx/4xx, the process lives, and the user CLI works', async () => {
    const {
      file: config,
      dir,
      port,
    } = await siteFile(
      (p) => `site: { id: fuzz }
gateway: { id: gw-1, dataDir: ./data }
console: { listen: "127.0.0.1:${p}" }
io: [{ id: sim, type: sim }]
devices:
  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, close: { io: sim, pin: 2 }, safetyLoop: { io: sim, pin: 3 } }
  - { id: door, type: door, lock: { io: sim, pin: 4 }, lockType: fail-secure }
`,
    );
    const cli = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args, '--config', config], { input: input ?? '', encoding: 'utf8' });
    expect(cli(['user', 'add', 'ada', '--role', 'admin'], 'admin-password-1\n')).toMatchObject({ status: 0 });
    expect(cli(['user', 'add', 'ada', '--role', 'admin'], 'another-password\n')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('exists already'),
    });
    expect(cli(['user', 'add', 'bob', '--role', 'boss'], 'x\n')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--role: expected one of staff|installer|admin'),
    });
    expect(cli(['user', 'add', 'bob', '--role', 'staff'], 'short\n')).toMatchObject({ status: 2, stderr: expect.stringContaining('at least 10 characters') });
    expect(cli(['user', 'add', 'bob', '--role', 'staff'], 'a123456789\n')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('would be guessed at once (it is one of the most common passwords)'),
    });
    expect(cli(['user', 'add', 'bob', '--role', 'staff'], 'qwertyuiop\n')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('would be guessed at once'),
    });
    expect(cli(['user', 'add', '王伟', '--role', 'staff'], 'gate-keeper-2026\n').status).toBe(0); // Chinese names are names
    expect(cli(['user', 'add', 'a/b', '--role', 'staff'], 'gate-keeper-2026\n')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('user name "a/b"'),
    });
    expect(cli(['user', 'add', 'sam', '--role', 'staff'], 'staff-password-1\n').status).toBe(0);
    expect(cli(['user', 'list']).stdout).toMatch(/^ada\s+admin\s+created .*\n王伟\s+staff\s+created .*\nsam\s+staff\s+created/);
    expect(statSync(join(dir, 'data', 'users.json')).mode & 0o777).toBe(0o600);
    expect(cli(['user', 'passwd', 'sam'], 'staff-password-2\n').status).toBe(0);
    expect(cli(['user', 'remove', 'nobody']).status).toBe(2);

    const gateway = await runGatewayProcess(config, port);
    try {
      const login = await fetch(`http://127.0.0.1:${port}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"ada","password":"admin-password-1"}',
      });
      const { token } = (await login.json()) as { token: string };
      expect(token).toBeTruthy();
      // the password changed by the CLI applies to the running gateway
      const sam = await fetch(`http://127.0.0.1:${port}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"sam","password":"staff-password-2"}',
      });
      expect(sam.status).toBe(200);

      let seed = 7;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
      const values = [
        null,
        true,
        false,
        0,
        1,
        2,
        -1,
        1e308,
        0.5,
        123456789012345678901234567890,
        -0,
        '',
        'x',
        '0',
        '1',
        'admin',
        '粤B12345',
        [],
        {},
        [{ plate: '粤B12345' }],
        [{ plate: 1 }],
        { value: 1 },
        'x'.repeat(2000),
        '\u0000',
        '\ud800',
        { __proto__: { polluted: true } },
      ];
      const keys = ['username', 'password', 'value', 'pulseMs', 'version', 'plates', '__proto__', 'constructor', 'prototype', 'plate', 'lanes', 'until'];
      const routes: Array<[string, string]> = [
        ['POST', '/api/session'],
        ['POST', '/api/devices/gate/open'],
        ['POST', '/api/devices/door/close'],
        ['POST', '/api/io/sim/1'],
        ['POST', '/api/io/sim/3'],
        ['PUT', '/api/plates'],
        ['POST', '/api/visitors/p1/allow'],
        ['POST', '/api/devices/gate/explode'],
      ];
      const body = () => {
        const r = rnd();
        if (r < 0.5) {
          const o: Record<string, unknown> = {};
          for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) o[pick(keys)] = pick(values);
          return JSON.stringify(o);
        }
        if (r < 0.65) return JSON.stringify(pick(values));
        if (r < 0.7) {
          // nested thousands of levels deep and well-formed, within the 64 kB API body limit (a
          // larger body is refused 413 before it is read); or numbers JSON cannot hold
          if (rnd() < 0.3) return `{"value":1e999,"version":-1e309,"pulseMs":${'9'.repeat(400)}}`;
          if (rnd() < 0.5) {
            const n = Math.floor(rnd() * 30_000);
            return `${'['.repeat(n)}${']'.repeat(n)}`;
          }
          const n = Math.floor(rnd() * 5_000);
          return `${'{"plates":'.repeat(n)}1${'}'.repeat(n)}`;
        }
        const text = JSON.stringify({ value: 1, plates: [{ plate: '粤B12345', lanes: ['gate'] }], version: 3 });
        const chars = [...text];
        for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 0x800));
        return r < 0.9 ? chars.join('') : chars.join('').slice(0, Math.floor(rnd() * chars.length));
      };
      const statuses = new Map<number, number>();
      let next = 0;
      const worker = async () => {
        while (next < 10_000) {
          const n = next++;
          const [method, path] = routes[n % routes.length]!;
          const payload = body();
          const type =
            rnd() < 0.9
              ? 'application/json'
              : pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data']);
          const res = await fetch(`http://127.0.0.1:${port}${path}`, {
            method,
            headers: { 'content-type': type, ...(path === '/api/session' ? {} : { authorization: `Bearer ${token}` }) },
            body: payload,
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) throw new Error(`${method} ${path} ${JSON.stringify(payload).slice(0, 300)} → ${res.status}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(gateway.exited()).toBe(false);
      expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
      expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
      expect(statuses.get(400)).toBeGreaterThan(2000);
      const health = await fetch(`http://127.0.0.1:${port}/api/health`);
      expect(health.status).toBe(200);
      const devices = await fetch(`http://127.0.0.1:${port}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(devices.status).toBe(200);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(gateway.stderr()).toBe('');
    } finally {
      await gateway.stop();
    }
  }, 180_000);
});
