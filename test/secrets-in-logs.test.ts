/**
 * Nothing secret in logs (#27): a body that will not parse is never quoted with a password, token
 * or key in it, neither by V8's JSON error (which quotes the input) nor by a form a camera sends
 * (a Vzenith heartbeat carries `pass_wd`); checked on the words and on the real process's log.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../core/json.js';
import { redactSecrets } from '../core/privacy.js';
import { freePort } from './peers/modbus.js';
import { rawPost } from './peers/raw-http.js';
import { until } from './peers/until.js';

const SECRET = 'TopSecret-42';
const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));

describe('secrets stay out of logs', () => {
  it.each([
    `device_name=cam-1&ipaddr=10.0.0.9&pass_wd=${SECRET}&serialno=abc`,
    `{"user": "admin", "password": "${SECRET}", "x": 1`,
    `{'token': '${SECRET}'}`,
    `Authorization: Bearer ${SECRET}`,
    `"commandKey":"${SECRET}"`,
    `pwd=${SECRET}`,
    `{"sig":"${SECRET}"}`,
  ])('%s is redacted', (text) => {
    const redacted = redactSecrets(text);
    expect(redacted).not.toContain(SECRET);
    expect(redacted).toContain('***');
  });

  it('keeps what is not secret', () => {
    expect(redactSecrets('device_name=cam-1&ipaddr=10.0.0.9')).toBe('device_name=cam-1&ipaddr=10.0.0.9');
  });

  it("a JSON error does not quote the input, as V8's own message does", () => {
    for (const text of [`pass_wd=${SECRET}`, `${SECRET}&x=1`, `{"a": "${SECRET}`]) {
      const r = parseJson(text);
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.reason).not.toContain(SECRET.slice(0, 6));
    }
  });

  it("the real process's log has no camera password from a form-encoded heartbeat or a broken body", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-secrets-'));
    const port = await freePort();
    const site = join(dir, 'site.yaml');
    writeFileSync(
      site,
      `site: { id: s }\ngateway: { id: g, dataDir: ${join(dir, 'data')} }\nconsole: { listen: "127.0.0.1:${port}" }\nio: [{ id: sim, type: sim }]\ndevices:\n  - { id: gate, type: barrier, open: { io: sim, pin: 1 } }\n  - { id: cam, type: lpr-camera, vendor: vzenith, direction: in, lane: gate, allowFrom: [127.0.0.1] }\n`,
    );
    const child = spawn(BIN, ['run', '--config', site, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d: Buffer) => void (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => void (log += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await until('the gateway to answer', () =>
        fetch(`http://127.0.0.1:${port}/api/health`).then(
          (r) => r.ok,
          () => false,
        ),
      );
      const bodies = [
        ['application/x-www-form-urlencoded', `device_name=cam&ipaddr=127.0.0.1&port=80&user_name=admin&pass_wd=${SECRET}&serialno=x`],
        ['application/json', `pass_wd=${SECRET}`],
        ['application/json', `{"AlarmInfoPlate": {"password": "${SECRET}", `],
      ] as const;
      for (const [type, body] of bodies) {
        const r = await rawPost(port, '/lpr/cam', Buffer.from(body), type);
        expect(r.status).toBe(400);
        expect(r.body).not.toContain(SECRET);
      }
      await until('the refusals logged', () => (log.match(/could not be read/g) ?? []).length >= bodies.length);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(SECRET.slice(0, 8));
  });
});

describe("the whole suite's logs are read for secrets", () => {
  it("in-process gateways log into the run's folder, and a secret there is found with its file and line", async () => {
    const { SUITE_LOG_DIR, TEST_SECRETS } = await import('./suite-logs.js');
    const { secretsIn } = await import('./global-logs.js');
    const { silentLog } = await import('./helpers.js');
    expect(SUITE_LOG_DIR).toBeDefined(); // set by test/global-logs.ts for every run
    silentLog.info('a line from this test, nothing secret');
    const { readdirSync, readFileSync } = await import('node:fs');
    const mine = readdirSync(SUITE_LOG_DIR!).filter((n) => n.startsWith(`in-process-${process.pid}-`));
    expect(mine.some((n) => readFileSync(join(SUITE_LOG_DIR!, n), 'utf8').includes('a line from this test'))).toBe(true);
    // the grep itself, on a folder of its own
    const folder = mkdtempSync(join(tmpdir(), 'eg-secret-grep-'));
    writeFileSync(join(folder, 'a.ndjson'), `{"msg":"fine"}\n{"msg":"login for guard with ${TEST_SECRETS[8]}"}\n`);
    expect(secretsIn(folder, TEST_SECRETS).found).toEqual([`a.ndjson:2: "${TEST_SECRETS[8]}" in {"msg":"login for guard with ${TEST_SECRETS[8]}"}`]);
  });
});
