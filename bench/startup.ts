/**
 * Start-up and footprint of three sites, each beside its floor (footprint-floor.ts: the libraries
 * the site's gateway uses doing the same work alone, started the same way): time from process
 * start to READY=1 on a notify socket (as systemd would see it; the floor's own "ready" line),
 * and RSS after the site has run a while. The sites: the demo (config/examples/demo.yaml, its
 * meters answered by a pymodbus peer and its uplink to a mosquitto when there is one), meters
 * only (four SDM630 on Modbus TCP, forwarded when there is a broker), doors only (two doors on a
 * sim board). A bare `node -e` that exits at once is timed too.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encode } from '../drivers/modbus/decode.js';
import { launchGateway, launchLikeGateway } from './launch.js';
import { modbusPeer } from './peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096).decode()
    print(repr(time.time()) + " " + data.replace("\\n", " "), flush=True)
`;

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export function nodeFloorMs(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}

export type Site = 'demo' | 'meters' | 'doors';
export interface Footprint {
  readyMs: number;
  rssMb: number;
  floorReadyMs: number;
  floorRssMb: number;
}

const SDM630 = {
  ir: Object.fromEntries(
    Object.entries({ 0x0000: 230.1, 0x0002: 231.2, 0x0004: 229.9, 0x0006: 5.5, 0x0008: 6.25, 0x000a: 7, 0x000c: 1265.6, 0x0156: 12358.1, 0x0046: 50 }).map(
      ([a, v]) => [a, encode(v, 'float32')],
    ),
  ),
};

/** Runs the site's gateway, then its floor, each for `seconds`, with a Modbus peer and a broker where the site uses them. */
export async function footprint(site: Site, ports: { http: number; modbus: number }, mqttUrl: string | undefined, seconds: number): Promise<Footprint> {
  const dir = mkdtempSync(join(tmpdir(), `eg-bench-${site}-`));
  const file = join(dir, 'site.yaml');
  const upstream = mqttUrl ? `upstream: { mqtt: { url: "${mqttUrl}" } }\n` : '';
  let floorArgs: string[] = [];
  let stopPeer = () => {};
  if (site === 'demo') {
    const demo = readFileSync(join(ROOT, 'config', 'examples', 'demo.yaml'), 'utf8')
      .replace(/dataDir: \S+ \}/, `dataDir: ${join(dir, 'data')} }`)
      .replace(/listen: "[^"]+"/, `listen: "127.0.0.1:${ports.http}"`)
      .replace(/port: 502 \}/, `port: ${ports.modbus} }`)
      .replace(/^upstream: .*$/m, mqttUrl ? `upstream: { mqtt: { url: "${mqttUrl}" } }` : '');
    writeFileSync(file, demo);
    stopPeer = await modbusPeer({ mode: 'tcp', port: ports.modbus, units: { '1': SDM630, '2': SDM630 } });
    floorArgs = ['--modbus', `${ports.modbus}:2:10`, '--xml', ...(mqttUrl ? ['--mqtt', mqttUrl] : [])];
  } else if (site === 'meters') {
    const meters = [1, 2, 3, 4].map((u) => `  - { id: m${u}, type: meter, model: sdm630, bus: plant, unit: ${u}, intervalSec: 5 }`).join('\n');
    writeFileSync(
      file,
      `site: { id: bench }\ngateway: { id: gw, dataDir: ${join(dir, 'data')} }\nconsole: { listen: "127.0.0.1:${ports.http}" }\n${upstream}buses: [{ id: plant, type: tcp, host: 127.0.0.1, port: ${ports.modbus} }]\ndevices:\n${meters}\n`,
    );
    stopPeer = await modbusPeer({ mode: 'tcp', port: ports.modbus, units: { '1': SDM630, '2': SDM630, '3': SDM630, '4': SDM630 } });
    floorArgs = ['--modbus', `${ports.modbus}:4:5`, ...(mqttUrl ? ['--mqtt', mqttUrl] : [])];
  } else {
    writeFileSync(
      file,
      `site: { id: bench }\ngateway: { id: gw, dataDir: ${join(dir, 'data')} }\nconsole: { listen: "127.0.0.1:${ports.http}" }\nio: [{ id: sim, type: sim }]\ndevices:\n` +
        '  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-safe, contact: { io: sim, pin: 2 }, exitButton: { io: sim, pin: 3 } }\n' +
        '  - { id: b1, type: door, lock: { io: sim, pin: 4 }, lockType: fail-secure, contact: { io: sim, pin: 5 } }\n',
    );
  }
  try {
    const gateway = await gatewayFootprint(dir, file, seconds);
    const floor = await floorFootprint(floorArgs, seconds);
    return { ...gateway, floorReadyMs: floor.readyMs, floorRssMb: floor.rssMb };
  } finally {
    stopPeer();
  }
}

async function gatewayFootprint(dir: string, file: string, seconds: number): Promise<{ readyMs: number; rssMb: number }> {
  const socketPath = join(dir, 'notify.sock');
  const receiver = spawn('/usr/bin/python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let lines = '';
  await new Promise<void>((resolve) => receiver.stdout.on('data', (d: Buffer) => ((lines += d.toString()), lines.includes('listening') && resolve())));
  try {
    const started = Date.now();
    const child = launchGateway(['run', '--config', file, '--log-level', 'warn'], { env: { ...process.env, NOTIFY_SOCKET: socketPath }, stdio: 'ignore' });
    while (!/READY=1/.test(lines)) await new Promise((r) => setTimeout(r, 5));
    const readyMs = Number(/(\d+\.\d+) READY=1/.exec(lines)?.[1]) * 1000 - started;
    return { readyMs, rssMb: await rssAfter(child, seconds) };
  } finally {
    receiver.kill('SIGKILL');
  }
}

async function floorFootprint(args: string[], seconds: number): Promise<{ readyMs: number; rssMb: number }> {
  const started = performance.now();
  const child = launchLikeGateway(fileURLToPath(new URL('./footprint-floor.js', import.meta.url)), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && resolve()));
  return { readyMs: performance.now() - started, rssMb: await rssAfter(child, seconds) };
}

async function rssAfter(child: ChildProcess, seconds: number): Promise<number> {
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return rss;
}
