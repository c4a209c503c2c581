/**
 * Uplink drain: a 100,000-event backlog to a local broker beside a bare mqtt.js QoS 1 publisher
 * sending the same payloads to the same broker; and the latency of live events meanwhile.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { silentLog } from './quiet.js';
import { Journal, rowOf } from '../journal/journal.js';
import { JournalStore } from '../journal/store.js';
import { livePayload } from '../uplink/topics.js';
import { Uplink } from '../uplink/uplink.js';
import { sampleEvent } from './journal.js';
import { systemClock } from '../core/clock.js';
import { eventMaker } from '../core/events.js';

const PREFIX = 'estate/bench-site/gw-bench';
const BARE_WINDOW = 1000;

export async function barePublisherRate(url: string, n: number): Promise<number> {
  const client = await mqtt.connectAsync(url, { clientId: 'bench-bare', clean: true, reconnectPeriod: 0 });
  const payloads = Array.from({ length: n }, (_, i) => livePayload({ ...sampleEvent(i), seq: i + 1, historical: true }));
  const t0 = performance.now();
  // As many in flight as MQTT allows comfortably (packet ids are 16 bits): a strict peer.
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const next = () => {
      while (sent < n && sent - acked < BARE_WINDOW) {
        client.publish(`${PREFIX}-bare/events/vehicle.entry`, payloads[sent++]!, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++acked === n) resolve();
          else next();
        });
      }
    };
    next();
  });
  const seconds = (performance.now() - t0) / 1000;
  await client.endAsync(true);
  return n / seconds;
}

export interface DrainResult {
  perSec: number;
  liveLatencyP50: number;
  liveLatencyP99: number;
  liveSamples: number;
}

export async function uplinkDrain(url: string, n: number, window?: number): Promise<DrainResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'eg-bench-d-'));
  // A backlog left by an outage: n unforwarded events already on disk.
  const store = new JournalStore(join(dataDir, 'journal.db'), { maxBytes: 10e9, keepForwardedDays: 7 });
  for (let i = 0; i < n; i += 1000) {
    store.append(Array.from({ length: Math.min(1000, n - i) }, (_, k) => rowOf({ ...sampleEvent(i + k), seq: i + k + 1, historical: false })));
  }
  store.close();
  const journal = await Journal.open({ dataDir, maxBytes: 10e9, keepForwardedDays: 7 });

  // A subscriber timing live events (door.opened) from their creation to arrival.
  const sub = await mqtt.connectAsync(url, { clientId: 'bench-sub', clean: true, reconnectPeriod: 0 });
  const latencies: number[] = [];
  sub.on('message', (_t, payload) => {
    const ev = JSON.parse(payload.toString()) as { time: string };
    latencies.push(Date.now() - Date.parse(ev.time));
  });
  await sub.subscribeAsync(`${PREFIX}/events/door.opened`, { qos: 1 });

  const uplink = new Uplink({
    mqtt: { url, keepaliveSec: 30, protocolVersion: 5, typeAsLevels: false },
    prefix: PREFIX,
    clientId: 'bench-gateway',
    journal,
    log: silentLog,
    version: 'bench',
    startedAt: new Date().toISOString(),
    ...(window ? { window } : {}),
  });
  const make = eventMaker('bench-site', 'gw-bench', systemClock);
  const t0 = performance.now();
  uplink.start();
  const live = setInterval(() => journal.append(make('door.opened', 'door-b1', { locked: false })), 20);
  while (uplink.stats().acked < n) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(live);
  await new Promise((r) => setTimeout(r, 200));
  await uplink.stop();
  await journal.close();
  await sub.endAsync(true);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { perSec: n / seconds, liveLatencyP50: pct(50), liveLatencyP99: pct(99), liveSamples: latencies.length };
}
