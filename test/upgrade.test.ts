/**
 * Upgrades with rollback, end to end: the real process under a stand-in for systemd
 * (Restart=always), a signed command over a real broker, releases fetched from a local HTTPS
 * server. A good release is installed beside the running one, switched to, and confirmed healthy;
 * a release that cannot start is undone by the installed launcher after three attempts; a badly
 * signed or mis-hashed one is refused with nothing installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes, subscribe, until } from './peers/broker.js';
import type { Subscriber } from './peers/broker.js';
import { freePort } from './peers/modbus.js';
import { HAVE_OPENSSL, serverCertificate } from './peers/tls.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'bin/estate-gateway.js');
const PREFIX = 'estate/upg/gw-1';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A release tarball as the fleet builds it: a whole installed package (here: this checkout) at `version`. */
function release(dir: string, version: string, broken = false): Buffer {
  const stage = mkdtempSync(join(tmpdir(), 'eg-release-'));
  const pkg = join(stage, 'package');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  if (broken) writeFileSync(join(pkg, 'bin', 'estate-gateway.js'), "process.stderr.write('this release cannot start\\n'); process.exit(3);\n");
  else cpSync(BIN, join(pkg, 'bin', 'estate-gateway.js'));
  // its own code (a release knows its version from where its code lies), the rest shared
  cpSync(join(REPO, 'dist', 'bundle'), join(pkg, 'dist', 'bundle'), { recursive: true });
  for (const d of ['node_modules', 'console', 'config', 'deploy', 'systemd']) symlinkSync(join(REPO, d), join(pkg, d));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'estate-gateway', version, type: 'module' }));
  const file = join(dir, `estate-gateway-${version}.tgz`);
  expect(spawnSync('tar', ['-czf', file, '-C', stage, 'package']).status).toBe(0);
  return readFileSync(file);
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'eg-upgrade-'));
  // The release server: HTTPS with a certificate from a CA of its own, which the site trusts.
  serverCertificate(dir, 'fleet CA');
  const files = new Map<string, Buffer>();
  const server: Server = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) }, (req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const httpsPort = (server.address() as { port: number }).port;
  // The fleet's signing key; the gateway holds the public half only.
  const keys = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'fleet.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const offer = (version: string, body: Buffer, opts: { badSignature?: boolean } = {}) => {
    files.set(`/estate-gateway-${version}.tgz`, body);
    const signature = sign(null, opts.badSignature ? Buffer.concat([body, Buffer.from('x')]) : body, keys.privateKey).toString('base64');
    return { url: `https://127.0.0.1:${httpsPort}/estate-gateway-${version}.tgz`, sha256: createHash('sha256').update(body).digest('hex'), signature, version };
  };

  const broker = await startAedes();
  cleanups.push(() => broker.stop());
  const httpPort = await freePort();
  const data = join(dir, 'data');
  const site = join(dir, 'site.yaml');
  writeFileSync(
    site,
    `site: { id: upg }
gateway: { id: gw-1, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${broker.port}" } }
console: { listen: "127.0.0.1:${httpPort}" }
upgrade: { publicKey: ./fleet.pub, ca: ./ca.crt }
io: [{ id: sim, type: sim }]
devices:
  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }
`,
  );
  const platform = await subscribe(broker.port, `${PREFIX}/#`);
  cleanups.push(() => platform.stop());

  // systemd, as far as the test needs it: Restart=always, the installed launcher as ExecStart.
  let child: ChildProcess | undefined;
  let stopping = false;
  const starts: number[] = [];
  const stderr: string[] = [];
  const startOnce = () => {
    starts.push(Date.now());
    child = spawn(process.execPath, [BIN, 'run', '--config', site, '--data-dir', data, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => void stderr.push(d.toString()));
    child.once('exit', () => {
      if (!stopping && starts.length < 30) setTimeout(startOnce, 100);
    });
  };
  startOnce();
  cleanups.push(async () => {
    stopping = true;
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
  });
  const statusVersion = () => {
    const last = [...platform.messages].reverse().find((m) => m.topic === `${PREFIX}/status`);
    return last ? (JSON.parse(last.payload) as { online: boolean; version?: string }) : undefined;
  };
  await until('online', () => statusVersion()?.online === true, 15_000);
  let n = 0;
  const command = async (cmd: Record<string, unknown>, ms = 20_000) => {
    const id = `up-${++n}`;
    await platform.client.publishAsync(`${PREFIX}/cmd`, JSON.stringify({ id, action: 'upgrade', ...cmd }), { qos: 1 });
    await until(`the reply to ${id}`, () => replies(platform).some((r) => r['id'] === id), ms);
    return replies(platform).find((r) => r['id'] === id)!;
  };
  return { dir, data, offer, command, platform, statusVersion, starts, stderr };
}

const replies = (s: Subscriber) => s.messages.filter((m) => m.topic === `${PREFIX}/cmd/reply`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
const audits = (s: Subscriber) =>
  s.messages.filter((m) => m.topic === `${PREFIX}/events/audit.upgrade`).map((m) => (JSON.parse(m.payload) as { data: Record<string, unknown> }).data);

describe.runIf(HAVE_OPENSSL || process.env.CI === 'true')('upgrades with rollback (local HTTPS release server)', () => {
  it('installs a signed release beside the running one, restarts into it and confirms it; a release that cannot start is undone after three attempts', async () => {
    const t = await setup();
    // Refused, nothing installed: a signature by another key, a checksum that does not match.
    const good = release(t.dir, '0.2.0');
    expect(await t.command({ ...t.offer('0.2.0', good, { badSignature: true }) })).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(await t.command({ ...t.offer('0.2.0', good), sha256: '0'.repeat(64) })).toMatchObject({
      ok: false,
      error: 'invalid',
      message: expect.stringContaining('sha256 is'),
    });
    // a download that fails part way, and a signed tarball that holds another version
    expect(await t.command({ ...t.offer('0.2.0', good), url: t.offer('0.2.0', good).url.replace('0.2.0.tgz', 'gone.tgz') })).toMatchObject({
      ok: false,
      error: 'download-failed',
    });
    expect(await t.command({ ...t.offer('0.2.1', good) })).toMatchObject({
      ok: false,
      error: 'invalid',
      message: expect.stringContaining('not estate-gateway 0.2.1'),
    });
    expect(existsSync(join(t.data, 'releases', '0.2.0'))).toBe(false);
    // and nothing a refusal downloaded is left to fill the disk
    const incoming = join(t.data, 'releases', 'incoming');
    expect(existsSync(incoming) ? readdirSync(incoming) : []).toEqual([]);

    // A good one: fetched, checked, installed, switched to, restarted into, confirmed.
    expect(await t.command({ ...t.offer('0.2.0', good), deadlineSec: 2 })).toEqual({ id: 'up-5', ok: true, version: '0.2.0' });
    await until('0.2.0 runs', () => t.statusVersion()?.version === '0.2.0' && t.statusVersion()?.online === true, 20_000);
    expect(readlinkSync(join(t.data, 'releases', 'current'))).toBe('0.2.0');
    await until('confirmed', () => audits(t.platform).some((a) => a['phase'] === 'confirmed'), 15_000);
    expect(existsSync(join(t.data, 'releases', 'trial.json'))).toBe(false);

    // A release that cannot even start: the installed launcher undoes it after three attempts.
    const startsBefore = t.starts.length;
    expect(await t.command({ ...t.offer('0.3.0', release(t.dir, '0.3.0', true)), deadlineSec: 2 })).toEqual({ id: 'up-6', ok: true, version: '0.3.0' });
    await until('rolled back', () => audits(t.platform).some((a) => a['rolledBack'] === true), 30_000);
    expect(t.starts.length - startsBefore).toBe(3 + 1); // three starts of 0.3.0 that failed, then the one that undid it
    expect(readlinkSync(join(t.data, 'releases', 'current'))).toBe('0.2.0');
    expect(t.statusVersion()).toMatchObject({ online: true, version: '0.2.0' });
    expect(audits(t.platform).find((a) => a['rolledBack'] === true)).toMatchObject({
      id: 'up-6',
      ok: false,
      version: '0.3.0',
      running: '0.2.0',
      reason: 'the release did not start (3 attempts)',
    });
    expect(audits(t.platform).map((a) => [a['version'], a['phase'] ?? a['error'] ?? (a['rolledBack'] ? 'rolled back' : '')])).toEqual([
      ['0.2.0', 'bad-signature'],
      ['0.2.0', 'invalid'],
      ['0.2.0', 'download-failed'],
      ['0.2.1', 'invalid'],
      ['0.2.0', 'installed'],
      ['0.2.0', 'confirmed'],
      ['0.3.0', 'installed'],
      ['0.3.0', 'rolled back'],
    ]);
  }, 90_000);
});

describe('the trial of a release that starts but is not healthy', () => {
  it('is undone at its deadline: the release before it is current again, with the reason for it to report', async () => {
    const { vi } = await import('vitest');
    const { UpgradeManager } = await import('../gateway/upgrade-control.js');
    const { switchTo, trialFile, rolledBackFile } = await import('../gateway/releases.js');
    const { silentLog } = await import('./helpers.js');
    const data = mkdtempSync(join(tmpdir(), 'eg-trial-'));
    mkdirSync(join(data, 'releases', '0.2.0'), { recursive: true });
    mkdirSync(join(data, 'releases', '0.3.0'), { recursive: true });
    switchTo(data, '0.3.0');
    writeFileSync(
      trialFile(data),
      JSON.stringify({
        version: '0.3.0',
        previous: '0.2.0',
        attempts: 1,
        deadlineSec: 5,
        commandId: 'up-9',
        baseline: { 'door-a': null, 'meter-1': 'MODBUS_TIMEOUT' },
        uplinkWasConnected: true,
      }),
    );
    vi.useFakeTimers();
    try {
      const exits: string[] = [];
      const manager = new UpgradeManager({ dataDir: data, version: '0.3.0', log: silentLog });
      manager.started({
        audit: () => undefined,
        reply: () => undefined,
        health: () => ({
          faults: () =>
            new Map([
              ['door-a', 'BOARD_OFFLINE'],
              ['meter-1', 'MODBUS_TIMEOUT'],
            ]),
          uplinkConnected: () => true,
        }),
        exit: (reason) => void exits.push(reason),
      });
      vi.advanceTimersByTime(4999);
      expect(exits).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(exits).toEqual(['roll back 0.3.0']);
      expect(readlinkSync(join(data, 'releases', 'current'))).toBe('0.2.0');
      expect(existsSync(trialFile(data))).toBe(false);
      // the meter that was already faulted before is not held against the new release
      expect(JSON.parse(readFileSync(rolledBackFile(data), 'utf8'))).toEqual({
        version: '0.3.0',
        previous: '0.2.0',
        reason: 'not healthy 5 s after the upgrade: door-a faulted (BOARD_OFFLINE)',
        commandId: 'up-9',
      });
    } finally {
      vi.useRealTimers();
    }
  });
});
