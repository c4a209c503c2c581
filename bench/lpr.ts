/**
 * Camera push to lane output, and to its reply: granted plate pushes to the real gateway process
 * with a 1,000,000-event journal backlog and no broker, beside the round trip of a bare Node HTTP
 * echo server in its own process. One client (this process) times both the same way, one
 * request in flight, in alternating blocks.
 *
 * The output is seen as it happens: the sim board's trace file is a FIFO this process reads, so
 * each push's lane output is timed from the request's start to its trace line arriving here.
 * The reply comes later, once the push's events are committed (one fsync); beside it, a bare
 * write + fdatasync of the same size on the same filesystem.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, fdatasyncSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { eventMaker } from '../core/events.js';
import { Journal } from '../journal/journal.js';
import { launchGateway } from './launch.js';

const make = eventMaker('bench', 'gw-bench', systemClock);

/** Fills a journal with `n` pending events, as a week-long outage would. */
export async function fillJournal(dataDir: string, n: number): Promise<void> {
  const journal = await Journal.open({ dataDir, maxBytes: 20e9, keepForwardedDays: 7 });
  await new Promise<void>((resolve) => {
    journal.onDurable((upTo) => upTo >= n && resolve());
    let i = 0;
    const feed = () => {
      for (const end = Math.min(n, i + 2000); i < end; i++) {
        journal.append(make('alarm.raised', `zone-${i % 16}`, { kind: 'perimeter' }));
      }
      if (i < n) setTimeout(feed, 0);
    };
    feed();
  });
  await journal.close();
}

export function post(port: number, agent: Agent, path: string, body: string, t0 = performance.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

const ECHO = `
const http = require('node:http');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(Buffer.concat(chunks)); });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface LprLatency {
  backlog: number;
  /** push to the lane output written */
  gateway: Percentiles;
  /** push to the reply (after the commit) */
  reply: Percentiles;
  echo: Percentiles;
  /** a bare 1 kB write + fdatasync in the journal's directory */
  fsync: Percentiles;
}

/**
 * Fills the journal once, then measures `runs` times (a fresh gateway and echo server each run)
 * and gives the median of each figure: the machines here are noisy.
 */
export async function lprLatency(
  ports: () => Promise<{ http: number; echo: number; deadBroker: number }>,
  backlog = 1_000_000,
  runs = 3,
  variant: LaneVariant = BARE_LANE,
): Promise<LprLatency> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-lpr-'));
  await fillJournal(join(dir, 'data'), backlog);
  const results: LprLatency[] = [];
  for (let r = 0; r < runs; r++) results.push(await measure(dir, await ports(), variant));
  const median = (f: (x: LprLatency) => number) => results.map(f).sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
  const both = (k: 'gateway' | 'reply' | 'echo' | 'fsync') => ({ p50: median((x) => x[k].p50), p99: median((x) => x[k].p99) });
  return { backlog: median((x) => x.backlog), gateway: both('gateway'), reply: both('reply'), echo: both('echo'), fsync: both('fsync') };
}

/** A bare write of `bytes` and fdatasync, `n` times, in `dir`: what one commit costs at least. */
function bareFsync(dir: string, n = 1000, bytes = 1024): Percentiles {
  const fd = openSync(join(dir, 'fsync-floor'), 'w');
  const block = Buffer.alloc(bytes, 0x61);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
  }
  return { p50: pct(times, 0.5), p99: pct(times, 0.99) };
}

/**
 * The lane output's trace lines as they arrive on the FIFO: each push waits for the next
 * "pin 1 driven to 1" line. Opened read-write so that it never sees end-of-file between writes.
 */
export function outputWatcher(fifo: string) {
  const fd = openSync(fifo, 'r+');
  const arrivals: number[] = [];
  let wake: (() => void) | undefined;
  let rest = '';
  const stream = createReadStream('', { fd, highWaterMark: 4096 });
  stream.on('data', (chunk) => {
    const now = performance.now();
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const change = JSON.parse(line) as { pin: number; value: number };
      if (change.pin === 1 && change.value === 1) arrivals.push(now);
    }
    wake?.();
  });
  return {
    /** the arrival time of the next output line (waits for it) */
    async next(): Promise<number> {
      while (arrivals.length === 0) await new Promise<void>((r) => (wake = r));
      return arrivals.shift()!;
    },
    clear: () => void arrivals.splice(0),
    close: () => stream.destroy(),
  };
}

/**
 * The lane a latency figure is taken at: its devices and access section (YAML flow lines), the
 * push its camera sends, and what each reply must carry.
 */
export interface LaneVariant {
  devices: string;
  access: string;
  push(plate: string): string;
  /** a reply that does not carry what it should (the screen's frames) is an error, not a figure */
  check?(reply: string): void;
}

/** A plain lane: a generic camera, no screen. */
export const BARE_LANE: LaneVariant = {
  devices: `  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, safetyLoop: { io: sim, pin: 2 } }
  - { id: cam, type: lpr-camera, vendor: generic, direction: in, lane: gate, allowFrom: [127.0.0.1] }`,
  access: '{ visitors: record }',
  push: (plate) => JSON.stringify({ plate, confidence: 95 }),
};

/** A Chinese estate lane: a Vzenith camera whose replies carry the lane screen's frames, a car park counting. */
export const SCREEN_LANE: LaneVariant = {
  devices: `  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, safetyLoop: { io: sim, pin: 2 }, display: { camera: cam } }
  - { id: cam, type: lpr-camera, vendor: vzenith, direction: in, lane: gate, allowFrom: [127.0.0.1] }`,
  access: '{ visitors: record, carParks: [{ id: p1, capacity: 100000, lanes: [gate] }] }',
  push: (plate) => JSON.stringify({ AlarmInfoPlate: { channel: 0, result: { PlateResult: { license: plate, confidence: 95, plateid: 1 } } } }),
  check: (reply) => {
    if (!reply.includes('"serialData"')) throw new Error(`a reply without the screen's frames: ${reply.slice(0, 200)}`);
  },
};

async function measure(dir: string, ports: { http: number; echo: number; deadBroker: number }, variant: LaneVariant, requests = 4000): Promise<LprLatency> {
  const config = join(dir, 'site.yaml');
  const fifo = join(dir, `outputs-${ports.http}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const outputs = outputWatcher(fifo);
  writeFileSync(
    config,
    `site: { id: bench }
gateway: { id: gw-bench, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${ports.deadBroker}" } }
console: { listen: "127.0.0.1:${ports.http}" }
io: [{ id: sim, type: sim, traceFile: ${fifo} }]
devices:
${variant.devices}
access: ${variant.access}
`,
  );
  const children: ChildProcess[] = [
    launchGateway(['run', '--config', config, '--log-level', 'warn'], { stdio: 'ignore' }),
    spawn(process.execPath, ['-e', ECHO, String(ports.echo)], { stdio: 'ignore' }),
  ];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitFor(`http://127.0.0.1:${ports.http}/api/health`);
    await waitFor(`http://127.0.0.1:${ports.echo}/`).catch(() => undefined);
    const health = (await (await fetch(`http://127.0.0.1:${ports.http}/api/health`)).json()) as { journal?: { depth: number } };
    let plate = 0;
    const push = () => variant.push(`粤A${String(plate++ % 100_000).padStart(5, '0')}`);
    if (variant.check) variant.check(await postText(ports.http, '/lpr/cam', push()));
    const gw: number[] = [];
    const replies: number[] = [];
    const echo: number[] = [];
    for (let i = 0; i < 300; i++) {
      await post(ports.http, agent, '/lpr/cam', push());
      await post(ports.echo, agent, '/', push());
    }
    await new Promise((r) => setTimeout(r, 100));
    outputs.clear();
    for (let block = 0; block < requests / 250; block++) {
      for (let i = 0; i < 250; i++) {
        const t0 = performance.now();
        replies.push(await post(ports.http, agent, '/lpr/cam', push(), t0));
        gw.push((await outputs.next()) - t0);
      }
      for (let i = 0; i < 250; i++) echo.push(await post(ports.echo, agent, '/', push()));
    }
    return {
      backlog: health.journal?.depth ?? Number.NaN,
      gateway: { p50: pct(gw, 0.5), p99: pct(gw, 0.99) },
      reply: { p50: pct(replies, 0.5), p99: pct(replies, 0.99) },
      echo: { p50: pct(echo, 0.5), p99: pct(echo, 0.99) },
      fsync: bareFsync(dir),
    };
  } finally {
    outputs.close();
    agent.destroy();
    for (const c of children) c.kill('SIGTERM');
  }
}

/** One push and its reply's body (to check what a reply carries). */
export async function postText(port: number, path: string, body: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return res.text();
}
