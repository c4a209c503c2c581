import type { Clock } from '../core/clock.js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { SimBoard } from '../drivers/io/sim.js';
import { systemClock } from '../core/clock.js';
import type { GatewayEvent } from '../core/events.js';
import { createLogger } from '../core/log.js';
import type { Logger } from '../core/log.js';
import { Gateway } from '../gateway/main.js';
import { UserStore } from '../http/users.js';
import { freePort } from './peers/modbus.js';
import { suiteLogFile, suiteLogger } from './suite-logs.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));

/**
 * What in-process gateways log in tests: nothing on screen; during a suite run, info and above
 * into the run's log folder, read for secrets at the end (test/suite-logs.ts).
 */
export const silentLog = suiteLogger();

/** A logger whose JSON lines are collected in `lines`. */
export function capturingLog(level: 'info' | 'debug' | 'trace' = 'info'): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level, destination: stream as unknown as NonNullable<Parameters<typeof createLogger>[0]>['destination'] });
  return {
    log,
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A valid config from a partial one: site and gateway filled in, validated with defaults. */
export function siteConfig(partial: Record<string, unknown>): SiteConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'eg-test-'));
  const result = validateConfig({ site: { id: 'test-site' }, gateway: { id: 'gw-test', dataDir }, ...partial });
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export interface Harness {
  gateway: Gateway;
  config: SiteConfig;
  board: SimBoard;
  events: GatewayEvent[];
  /** events as [time ms, type, device, data] for exact comparisons */
  timeline(): Array<[number, string, string, unknown]>;
}

/** A gateway on one sim board (id `sim`) with the given devices, started, no HTTP. */
export async function startGateway(
  partial: Record<string, unknown>,
  existing?: SimBoard,
  opts: { listen?: string; log?: Logger; dataDir?: string; journal?: boolean; clock?: Clock } = {},
): Promise<Harness> {
  const config = siteConfig({ io: [{ id: 'sim', type: 'sim' }], ...partial });
  if (opts.dataDir) config.gateway.dataDir = opts.dataDir;
  const board = existing ?? new SimBoard('sim', { clock: systemClock });
  const gateway = new Gateway({
    config,
    log: opts.log ?? silentLog,
    version: 'test',
    boards: new Map([['sim', board]]),
    listen: opts.listen ?? false,
    ...(opts.journal ? {} : { journal: false as const }),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const events: GatewayEvent[] = [];
  gateway.eventBus.on('event', 'test', (ev) => void events.push(ev));
  await gateway.start();
  return {
    gateway,
    config,
    board,
    events,
    timeline: () => events.map((e) => [Date.parse(e.time), e.type, e.device, e.data]),
  };
}

/** A small seedable generator (mulberry32), so a failing random case can be made again from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  /** whether the process has exited */
  exited(): boolean;
  stderr(): string;
  /** SIGTERM, and resolves once it has gone */
  stop(): Promise<void>;
}

/** Writes a site file into a fresh temp dir: `{port}` in the text becomes a free port. */
export async function siteFile(yaml: (port: number) => string): Promise<{ file: string; dir: string; port: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'eg-site-'));
  const file = join(dir, 'site.yaml');
  writeFileSync(file, yaml(port));
  return { file, dir, port };
}

/** `estate-gateway run` as a real child process; resolves once GET /api/health answers on `port`. */
export async function runGatewayProcess(file: string, port: number, opts: { as?: string[] } = {}): Promise<GatewayProcess> {
  // its log goes to the run's log folder (read for secrets at the end), or nowhere
  const logFile = suiteLogFile('process');
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  // `as`: a command the process is started through (setpriv, to run as another user)
  const [cmd, ...args] = [...(opts.as ?? []), process.execPath, BIN, 'run', '--config', file, '--log-level', logFile ? 'info' : 'fatal'];
  const child = spawn(cmd!, args, { stdio: ['ignore', out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  for (let i = 0; i < 100 && !exited; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    exited: () => exited,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Waits until the real gateway on `httpPort` is connected upstream with nothing left to forward, then a moment more. */
export async function drained(httpPort: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const health = await fetch(`http://127.0.0.1:${httpPort}/api/health`)
      .then((r) => r.json() as Promise<{ uplink: { connected: boolean; backlog: number } }>)
      .catch(() => undefined);
    if (health?.uplink.connected && health.uplink.backlog === 0) break;
    if (Date.now() > end) throw new Error(`backlog not drained: ${JSON.stringify(health)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
}

/** Logs in to a running gateway's API; the header that authorises later requests. */
export async function bearer(base: string, username: string, password: string): Promise<{ authorization: string }> {
  const login = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (login.status !== 200) throw new Error(`login as ${username}: HTTP ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  return { authorization: `Bearer ${token}` };
}

/** The installer account the real-process tests log in with. */
export const INSTALLER = { username: 'ian', password: 'a long installer password' } as const;

/**
 * A site file in `dir` for a real-process test: its data dir with the INSTALLER account, site and
 * gateway ids, the console on `http`, then `rest` (the file's other sections, as YAML).
 */
export async function installerSite(dir: string, http: number, rest: string): Promise<{ site: string; dataDir: string }> {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  await new UserStore(dataDir).add(INSTALLER.username, 'installer', INSTALLER.password);
  const site = join(dir, 'site.yaml');
  writeFileSync(site, `site: { id: s }\ngateway: { id: g, dataDir: ${dataDir} }\nconsole: { listen: "127.0.0.1:${http}" }\n${rest}`);
  return { site, dataDir };
}
