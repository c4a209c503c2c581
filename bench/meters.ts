/**
 * The meters job of the issue, as Node-RED was measured doing it: 32 SDM630 meters on one Modbus
 * TCP peer, each read every second (voltages, currents, powers at 0x0000..0x000D and total
 * energy at 0x0156), published QoS 1 to a local mosquitto, by the real gateway process.
 * And one poll cycle on a simulated 9600-baud line against the wire floor of its transactions.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { validateConfig } from '../config/load.js';
import { encode } from '../drivers/modbus/decode.js';
import { readWireTimeMs } from '../drivers/modbus/timing.js';
import { Gateway } from '../gateway/main.js';
import type { Meter } from '../devices/meter/meter.js';
import { launchGateway, launchLikeGateway } from './launch.js';
import { modbusPeer, ptyPair } from './peers.js';
import { silentLog } from './quiet.js';

export const floats = (values: Record<number, number>) => Object.fromEntries(Object.entries(values).map(([a, v]) => [String(a), encode(v, 'float32')]));
export const SDM630_REGS = { 0x0000: 230.1, 0x0002: 231.2, 0x0004: 229.9, 0x0006: 5.5, 0x0008: 6.25, 0x000a: 7, 0x000c: 1265.6, 0x0156: 12358.1 };
export const REGISTERS = [
  ['voltageL1V', 0x0000],
  ['voltageL2V', 0x0002],
  ['voltageL3V', 0x0004],
  ['currentL1A', 0x0006],
  ['currentL2A', 0x0008],
  ['currentL3A', 0x000a],
  ['powerL1W', 0x000c],
  ['energyTotalKwh', 0x0156],
] as const;

export interface MetersJob {
  firstReadingMs: number;
  rssMb: number;
  cpuPercent: number;
  journaled: number;
  published: number;
  /** 32 readings a second over the time from the first reading to the stop */
  expected: number;
  /** a meter's consecutive journaled readings more than 1.5 intervals apart: a reading missing */
  gaps: number;
}

function procStat(pid: number): { rssKb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

/** From now until `until` (a performance.now() time): the CPU used, as % of a core, and the RSS at the end. */
async function usageUntil(pid: number, until: number): Promise<{ rssMb: number; cpuPercent: number }> {
  const ticksPerSec = 100; // USER_HZ
  const a = procStat(pid);
  const ta = performance.now();
  await new Promise((r) => setTimeout(r, until - ta));
  const b = procStat(pid);
  const seconds = (performance.now() - ta) / 1000;
  return { rssMb: b.rssKb / 1024, cpuPercent: ((b.cpuTicks - a.cpuTicks) / ticksPerSec / seconds) * 100 };
}

export async function metersJob(mqttUrl: string, mqttPort: number, modbusPort: number, seconds = 30): Promise<MetersJob> {
  const units = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String(i + 1), { ir: floats(SDM630_REGS) }]));
  const stopPeer = await modbusPeer({ mode: 'tcp', port: modbusPort, units });
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-meters-'));
  const meters = Array.from({ length: 32 }, (_, i) => ({
    id: `m-${i + 1}`,
    type: 'meter',
    model: 'custom',
    bus: 'plant',
    unit: i + 1,
    intervalSec: 1,
    registers: REGISTERS.map(([name, address]) => ({ name, address, function: 4, type: 'float32' })),
  }));
  const config = {
    site: { id: 'bench' },
    gateway: { id: 'gw-1', dataDir: './data' },
    console: { listen: '127.0.0.1:0' },
    upstream: { mqtt: { url: `mqtt://127.0.0.1:${mqttPort}` } },
    buses: [{ id: 'plant', type: 'tcp', host: '127.0.0.1', port: modbusPort }],
    devices: meters,
  };
  const file = join(dir, 'site.json.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const sub = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-meters-sub', reconnectPeriod: 0 });
  let published = 0;
  let first = 0;
  sub.on('message', () => {
    published++;
    if (!first) first = performance.now();
  });
  await sub.subscribeAsync('estate/bench/gw-1/telemetry/#', { qos: 1 });

  const t0 = performance.now();
  const child = launchGateway(['run', '--config', file, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  while (!first && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 5));
  const firstReadingMs = first - t0;
  await new Promise((r) => setTimeout(r, 5000)); // settle, then measure CPU over the rest
  const usage = await usageUntil(child.pid!, t0 + seconds * 1000);
  const tb = performance.now();
  child.kill('SIGTERM');
  await exited;
  await sub.endAsync(true);
  stopPeer();
  const db = new Database(join(dir, 'data', 'journal.db'), { readonly: true });
  const readings = db.prepare("SELECT device, time FROM events WHERE type = 'meter.reading' ORDER BY seq").all() as Array<{ device: string; time: string }>;
  db.close();
  const last = new Map<string, number>();
  let gaps = 0;
  for (const r of readings) {
    const t = Date.parse(r.time);
    const before = last.get(r.device);
    if (before !== undefined && t - before > 1500) gaps++;
    last.set(r.device, t);
  }
  return {
    firstReadingMs,
    ...usage,
    journaled: readings.length,
    published,
    expected: Math.floor(((tb - first) / 1000) * 32),
    gaps,
  };
}

/**
 * The same wire work by modbus-serial and mqtt.js alone (meters-floor.ts), in a process started
 * like the gateway: what the job costs before the gateway adds anything.
 */
export async function metersFloor(mqttUrl: string, modbusPort: number, seconds = 30): Promise<{ rssMb: number; cpuPercent: number; published: number }> {
  const units = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String(i + 1), { ir: floats(SDM630_REGS) }]));
  const stopPeer = await modbusPeer({ mode: 'tcp', port: modbusPort, units });
  const sub = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-floor-sub', reconnectPeriod: 0 });
  let published = 0;
  sub.on('message', () => void published++);
  await sub.subscribeAsync('estate/bench-floor/#', { qos: 1 });
  const child = launchLikeGateway(fileURLToPath(new URL('./meters-floor.js', import.meta.url)), [String(modbusPort), mqttUrl], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const usage = await usageUntil(child.pid!, t0 + seconds * 1000);
  child.kill('SIGTERM');
  await exited;
  await sub.endAsync(true);
  stopPeer();
  return { ...usage, published };
}

/** One SDM630 on a simulated 9600 8N1 line: median poll cycle against its transactions' wire floor. */
export async function cycleAgainstFloor(): Promise<{ cycleMs: number; floorMs: number }> {
  const pty = await ptyPair();
  const stopPeer = await modbusPeer({
    mode: 'rtu',
    device: pty.b,
    baud: 9600,
    wire: { baud: 9600, bits: 10 },
    units: { '1': { ir: floats({ ...SDM630_REGS, 0x000e: 1, 0x0010: 1, 0x0034: 1, 0x0046: 50, 0x0048: 1, 0x004a: 1 }) } },
  });
  const parsed = validateConfig({
    site: { id: 'bench' },
    gateway: { id: 'gw', dataDir: mkdtempSync(join(tmpdir(), 'eg-bench-c-')) },
    buses: [{ id: 'rs485-1', type: 'rtu', port: pty.a, baudRate: 9600, parity: 'none', stopBits: 1, timeoutMs: 2000 }],
    devices: [{ id: 'm-1', type: 'meter', model: 'sdm630', bus: 'rs485-1', unit: 1, intervalSec: 1 }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const gateway = new Gateway({ config: parsed.config, log: silentLog, version: 'bench', listen: false, journal: false });
  const cycles: number[] = [];
  gateway.eventBus.on('event', 'bench', (e) => {
    if (e.type !== 'meter.reading') return;
    const ms = (gateway.devices.get('m-1') as Meter).lastCycleMs;
    if (ms !== undefined) cycles.push(ms);
  });
  await gateway.start();
  while (cycles.length < 12) await new Promise((r) => setTimeout(r, 50));
  await gateway.stop();
  stopPeer();
  pty.stop();
  const meter = gateway.devices.get('m-1') as Meter;
  const floorMs = meter.plan.reduce((sum, read) => sum + readWireTimeMs({ baudRate: 9600, parity: 'none', stopBits: 1 }, read.count), 0);
  const sorted = cycles.slice(2).sort((x, y) => x - y); // the first cycles warm up the connection
  return { cycleMs: sorted[Math.floor(sorted.length / 2)]!, floorMs };
}
