/** The real program, as installers and systemd run it: a child process per test. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGatewayProcess, siteFile } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'estate-gateway.js');
const SHARED_EXAMPLE = join(ROOT, '..', 'shared', 'contract', 'site.example.yaml');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'eg-cli-'));
}

function writeSite(dir: string, body: string): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, `site: { id: cli-test }\ngateway: { id: gw-cli, dataDir: ./data }\n${body}`);
  return file;
}

describe('estate-gateway validate', () => {
  it.runIf(existsSync(SHARED_EXAMPLE))('accepts the contract example with exit 0 and a one-line summary', () => {
    const r = cli('validate', '--config', SHARED_EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'ok: site music-square, gateway gw-north: 10 devices (2 door, 1 barrier, 1 bollard, 3 lpr-camera, 2 meter, 1 alarm-input), 4 io boards, 2 buses',
    ]);
  });

  it('prints one line per problem with its path and exits 2', () => {
    const file = writeSite(
      tempDir(),
      `io: [{ id: pi, type: gpio }]
devices:
  - { id: door-a, type: door, lock: { io: pi, pin: 4 }, lockType: fail-secure }
  - { id: door-b, type: door, lock: { io: pi, pin: 4 }, lockType: fail-safe }
  - { id: door-c, type: door, lock: { io: pi, pin: "17a" }, lockType: fail-secure, colour: red }
`,
    );
    const r = cli('validate', '--config', file);
    expect(r.code).toBe(2);
    // every problem in one pass: the schema's and the cross-checks' (door-b's conflict too)
    expect(r.stdout.trim().split('\n')).toEqual([
      'devices[2].lock.pin: expected an integer 0-27, got "17a"',
      'devices[2].colour: unknown key',
      'devices[1].lock.pin: output pi:4 (door-b) is already driven by devices[0].lock (door-a)',
    ]);
    const fixed = writeSite(
      tempDir(),
      `io: [{ id: pi, type: gpio }]
devices:
  - { id: door-a, type: door, lock: { io: pi, pin: 4 }, lockType: fail-secure }
  - { id: door-b, type: door, lock: { io: pi, pin: 4 }, lockType: fail-safe }
`,
    );
    const r2 = cli('validate', '--config', fixed);
    expect(r2.code).toBe(2);
    expect(r2.stdout.trim()).toBe('devices[1].lock.pin: output pi:4 (door-b) is already driven by devices[0].lock (door-a)');
  });

  it('a missing file or missing --config is exit 2 with a reason', () => {
    const missing = cli('validate', '--config', '/nonexistent/site.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read config \/nonexistent\/site.yaml/);
    const noFlag = cli('validate');
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/--config FILE is required/);
  });
});

describe('estate-gateway usage', () => {
  it('--version prints the package version', () => {
    expect(cli('--version')).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('--help lists the commands and exits 0', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    for (const word of ['run', 'validate', 'demo', 'Exit codes']) expect(r.stdout).toContain(word);
  });

  it("README's list of commands is --help's: every command line there, the same options", () => {
    const help = cli('--help').stdout;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const listed = /## Commands\n\n```\n([\s\S]*?)```/.exec(readme)![1]!.split('\n').filter(Boolean);
    const helpLines = help
      .split('\n')
      .filter((l) => /^ {2}[a-z]/.test(l))
      .map((l) => `estate-gateway ${l.trim()}`);
    expect(listed.filter((l) => !l.startsWith('estate-gateway --help'))).toEqual(helpLines);
  });

  it('an unknown command or option is exit 2', () => {
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('validate', '--config', 'x', '--bogus').code).toBe(2);
    expect(cli('run', '--config', 'x', '--log-level', 'loud').stderr).toMatch(/--log-level: expected one of/);
  });

  it('run refuses an invalid config with exit 2 and the problems on stderr', () => {
    const file = writeSite(tempDir(), 'devices: [{ id: d, type: door }]\n');
    const r = cli('run', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/devices\[0\]\.lock: required/);
  });

  it.runIf(!existsSync('/sys/class/gpio'))(
    'run on a machine without GPIO keeps running: the board is offline and its door faulted, the other door is fine',
    async () => {
      const { file } = await siteFile(
        (port) => `site: { id: s }
gateway: { id: g, dataDir: ./data }
io: [{ id: pi, type: gpio }, { id: sim, type: sim }]
console: { listen: "127.0.0.1:${port}" }
devices:
  - { id: door-a, type: door, lock: { io: pi, pin: 4 }, lockType: fail-secure }
  - { id: door-b, type: door, lock: { io: sim, pin: 4 }, lockType: fail-secure }
`,
      );
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(readFileSync(file, 'utf8'))![1]);
      const gw = await runGatewayProcess(file, port);
      try {
        expect(gw.exited(), gw.stderr()).toBe(false);
        const health = (await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as {
          devices: { ok: number; fault: number };
          boards: Record<string, { online: boolean }>;
        };
        expect(health).toMatchObject({ status: 'degraded', devices: { ok: 1, fault: 1 }, boards: { pi: { online: false }, sim: { online: true } } });
      } finally {
        await gw.stop();
      }
    },
  );
});

/** Starts `run`, waits for a trace line matching `until`, sends SIGTERM, returns what happened. */
async function runAndTerminate(lockType: 'fail-secure' | 'fail-safe', unlockedLevel: 0 | 1) {
  const dir = tempDir();
  const trace = join(dir, 'trace.jsonl');
  const file = writeSite(
    dir,
    `console: { listen: "127.0.0.1:0" }
io:
  - id: sim
    type: sim
    traceFile: ./trace.jsonl
    # the exit button is pressed every second, so a start-up slowed by a busy machine cannot miss it
    script: { repeatMs: 1000, steps: [{ at: 200, pin: 3, value: 1 }, { at: 400, pin: 3, value: 0 }] }
devices:
  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: ${lockType}, exitButton: { io: sim, pin: 3 }, unlockMs: 60000 }
`,
  );
  const child = spawn(process.execPath, [BIN, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lockLevels = () =>
    existsSync(trace)
      ? readFileSync(trace, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { pin: number; value: number })
          .filter((c) => c.pin === 1)
          .map((c) => c.value)
      : [];
  const deadline = Date.now() + 10_000;
  while (lockLevels().at(-1) !== unlockedLevel || lockLevels().length < 2) {
    if (Date.now() > deadline) throw new Error(`door never unlocked; stdout: ${stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const health = /"http":\{"host":"[^"]+","port":(\d+)\}/.exec(stdout);
  const healthBody = health ? await (await fetch(`http://127.0.0.1:${health[1]}/api/health`)).json() : undefined;
  const sentAt = Date.now();
  child.kill('SIGTERM');
  const code = await exited;
  return { code, ms: Date.now() - sentAt, levels: lockLevels(), stdout, healthBody, dataDir: join(dir, 'data'), config: file };
}

describe('estate-gateway run and SIGTERM', () => {
  it('SIGTERM while a strike is unlocked leaves it locked and exits 0 within 5 s', async () => {
    const r = await runAndTerminate('fail-secure', 1);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.levels).toEqual([0, 1, 0]); // safe on start, unlocked by the button, locked on stop
    const events = r.stdout
      .split('\n')
      .filter((l) => l.includes('"event"'))
      .map((l) => (JSON.parse(l) as { event: { type: string; data: unknown } }).event);
    expect(events.map((e) => e.type)).toEqual(['gateway.started', 'door.unlocked', 'gateway.stopping', 'door.locked']);
    expect(events.at(-1)!.data).toEqual({ by: 'shutdown' });
    expect(r.healthBody).toMatchObject({ status: 'ok', uplink: { connected: false, backlog: 0 }, devices: { ok: 1, fault: 0 }, fireAlarm: false });
    expect(existsSync(r.dataDir)).toBe(true); // dataDir resolved beside the config file and created
  });

  it('journals every event, including the shutdown, and `events` reads them back', async () => {
    const r = await runAndTerminate('fail-secure', 1);
    const json = cli('events', '--config', r.config, '--json');
    expect(json.code).toBe(0);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string; forwarded: boolean; data: unknown });
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'gateway.started'],
      [2, 'door.unlocked'],
      [3, 'gateway.stopping'],
      [4, 'door.locked'],
    ]);
    expect(events[1]!.data).toEqual({ by: 'exit-button', durationMs: 60000 });
    expect(events.every((e) => e.forwarded)).toBe(true); // no upstream configured: delivered once journaled
    const after = cli('events', '--config', r.config, '--after', '2', '--limit', '1');
    expect(after.stdout).toMatch(/^\s+3\s+\S+\s+gateway\s+gateway\.stopping/);
    expect(cli('events', '--config', r.config, '--pending').stdout).toBe('');
    expect(cli('events', '--config', r.config, '--limit', 'lots')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--limit: expected an integer >= 1, got "lots"/),
    });
  });

  it('SIGTERM while a maglock is released leaves it energised (locked) and exits 0', async () => {
    const r = await runAndTerminate('fail-safe', 0);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.levels).toEqual([1, 0, 1]);
  });
});

describe('estate-gateway demo', () => {
  it('shows a door unlocked by the simulated exit button and relocking', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--listen', '127.0.0.1:0', '--duration', '7'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(stdout).toMatch(/door-lobby\s+door\.unlocked\s+by exit-button, relocks in 3 s/);
    expect(stdout).toMatch(/door-lobby\s+door\.locked\s+by timeout/);
    expect(stdout.indexOf('door.unlocked')).toBeLessThan(stdout.indexOf('door.locked'));
    // a simulated camera pushes a resident's plate in Hikvision's format; the plate is masked
    expect(stdout).toMatch(/gate-north\s+barrier\.opened\s+by camera \(cam-north-in\)/);
    expect(stdout).toMatch(/cam-north-in\s+vehicle\.entry\s+粤\*\*\*\*45 granted \(resident, owner\)/);
    // what the lane screen shows and says, plates masked like every line here
    expect(stdout).toMatch(/\[北门屏 north gate screen\] 粤\*\*\*\*45 \/ 业主车 \/ 欢迎光临 {2}🔊 粤\*\*\*\*45，欢迎光临/);
  }, 20_000);

  it('reads its simulated meters and forwards every event to its embedded broker', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--listen', '127.0.0.1:0', '--duration', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    while (!/embedded broker (mqtt:\S+)/.test(stdout) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const url = /embedded broker (mqtt:\S+)/.exec(stdout)![1]!;
    const { default: mqtt } = await import('mqtt');
    const sub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    const topics = new Map<string, Record<string, unknown>>();
    sub.on('message', (topic, payload) => topics.set(topic, JSON.parse(payload.toString()) as Record<string, unknown>));
    await sub.subscribeAsync('estate/demo-estate/gw-demo/#', { qos: 1 });
    expect(await exited).toBe(0);
    await sub.endAsync(true);
    expect(stdout).toMatch(/meter-lifts\s+meter\.reading\s+powerW=[\d.]+ energyImportKwh=[\d.]+ voltageL1V=[\d.]+ \(\+11 more\)/);
    expect(stdout).toMatch(/meter-pump\s+meter\.reading\s+powerW=/);
    expect(stdout).not.toMatch(/fault/);
    // the platform's view: telemetry and access events, each in the documented envelope
    expect(topics.get('estate/demo-estate/gw-demo/telemetry/meter-pump')).toMatchObject({
      type: 'meter.reading',
      device: 'meter-pump',
      site: 'demo-estate',
      gateway: 'gw-demo',
    });
    expect(topics.get('estate/demo-estate/gw-demo/events/vehicle.entry')).toMatchObject({ type: 'vehicle.entry', device: 'cam-north-in' });
  }, 30_000);
});

describe('the launcher', () => {
  it('run as an executable (as systemd and npm start run it), it gives node the heap and malloc options of its first line', async () => {
    const child = spawn(BIN, ['demo', '--listen', '127.0.0.1:0', '--duration', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    while (!stdout.includes('door.') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    // env -S execs node in the same process: the pid is the gateway's
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    expect(argv.slice(0, 3)).toEqual(['node', '--max-semi-space-size=1', '--expose-gc']);
    expect(environ).toContain('MALLOC_ARENA_MAX=2');
    expect(await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))).toBe(0);
  }, 20_000);

  it('the benchmarks run their in-process figures (journal, drain) with the same options', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!.replace('#!/usr/bin/env -S ', '');
    const bench = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { bench: string } }).scripts.bench;
    expect(bench).toContain(`env ${shebang} dist/bench/run.js`);
  });
});
