/**
 * Memory that settles (#27): the real gateway (started as systemd starts it) with cameras, an
 * access terminal and the console; its idle RSS before any load, then after each of five rounds of
 * 5,000 camera pushes (2,500 cars in and out, a resident's among them), 2,000 API requests (logged in,
 * devices, events, health) and 2,000 terminal pushes, each round followed by a quiet time.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserStore } from '../http/users.js';
import { launchGateway } from './launch.js';

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Resident memory by mapping (anonymous memory, the heap, each file), largest first. */
function smapsSummary(pid: number): string {
  const sizes = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] || '[anon]';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sizes.set(name, (sizes.get(name) ?? 0) + Number(rss[1]));
  }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([n, kb]) => `${(kb / 1024).toFixed(1)} MB ${n}`)
    .join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` requests, `parallel` at a time. */
async function load(n: number, parallel: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await one(next++).catch(() => undefined);
    }),
  );
}

export async function memoryAfterLoad(port: number, rounds = 5, quietSec = 20): Promise<{ idleBeforeMb: number; idleAfterMb: number[]; highWaterMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-mem-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  await new UserStore(data).add('ada', 'admin', 'a long bench password');
  const site = join(dir, 'site.yaml');
  writeFileSync(
    site,
    `site: { id: bench }
gateway: { id: gw, dataDir: ./data }
console: { listen: "127.0.0.1:${port}" }
io: [{ id: sim, type: sim }]
devices:
  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, close: { io: sim, pin: 2 }, safetyLoop: { io: sim, pin: 3 } }
  - { id: door, type: door, lock: { io: sim, pin: 4 }, lockType: fail-secure }
  - { id: cam-in, type: lpr-camera, vendor: generic, direction: in, lane: gate, allowFrom: [127.0.0.1], repeatWindowSec: 0 }
  - { id: cam-out, type: lpr-camera, vendor: generic, direction: out, lane: gate, allowFrom: [127.0.0.1], repeatWindowSec: 0 }
  - { id: face, type: access-terminal, vendor: hikvision, allowFrom: [127.0.0.1] }
access:
  plates: [{ plate: "粤B12345" }]
  tariff: { perHourCents: 500 }
`,
  );
  const child = launchGateway(['run', '--config', site, '--log-level', 'warn'], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (
      let i = 0;
      i < 200 &&
      !(await fetch(`${base}/api/health`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await sleep(100);
    const login = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ada', password: 'a long bench password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    await sleep(quietSec * 1000);
    const idleBeforeMb = rssMb(child.pid!);
    if (process.env.BENCH_MEMORY_DETAIL) console.log(`before:\n${smapsSummary(child.pid!)}`);
    let highWaterMb = idleBeforeMb;
    const idleAfterMb: number[] = [];
    const terminalBody = JSON.stringify({
      ipAddress: '127.0.0.1',
      dateTime: '2026-12-01T08:00:00+08:00',
      eventType: 'AccessControllerEvent',
      AccessControllerEvent: { majorEventType: 5, subEventType: 75, employeeNoString: '1001', cardNo: '0012345678', currentVerifyMode: 'cardOrFace' },
    });
    for (let round = 0; round < rounds; round++) {
      const watch = setInterval(() => (highWaterMb = Math.max(highWaterMb, rssMb(child.pid!))), 200);
      // 2,500 cars in and out again (a resident's among them), each plate seen once in and once out
      await load(5000, 8, (i) =>
        fetch(`${base}/lpr/${i % 2 ? 'cam-out' : 'cam-in'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ plate: i % 20 < 2 ? '粤B12345' : `粤A${String(round * 2500 + Math.floor(i / 2)).padStart(5, '0')}`, confidence: 95 }),
        }).then((r) => r.arrayBuffer()),
      );
      await load(2000, 8, (i) =>
        fetch(`${base}${['/api/devices', '/api/events?limit=100', '/api/health', '/api/kinds'][i % 4]}`, { headers: auth }).then((r) => r.arrayBuffer()),
      );
      await load(2000, 8, () =>
        fetch(`${base}/acs/face`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: terminalBody }).then((r) => r.arrayBuffer()),
      );
      clearInterval(watch);
      await sleep(quietSec * 1000);
      idleAfterMb.push(rssMb(child.pid!));
      if (process.env.BENCH_MEMORY_DETAIL) {
        const text = await (await fetch(`${base}/metrics`)).text();
        const figure = (name: string) => (Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) / 1e6).toFixed(1);
        console.log(
          `round ${round + 1}: rss ${idleAfterMb.at(-1)!.toFixed(1)} MB, heap used ${figure('nodejs_heap_used_bytes')} MB of ${figure('nodejs_heap_total_bytes')}, external ${figure('nodejs_external_memory_bytes')}`,
        );
      }
    }
    if (process.env.BENCH_MEMORY_DETAIL) console.log(smapsSummary(child.pid!));
    return { idleBeforeMb, idleAfterMb, highWaterMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
