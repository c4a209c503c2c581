/** What the gateway reports about itself: GET /api/health and GET /metrics. */
import type { AccessControl } from '../access/access.js';
import type { SiteConfig } from '../config/schema.js';
import type { Kind } from '../devices/kind.js';
import { KINDS, kindOf } from '../devices/kinds.js';
import type { PushSource } from '../devices/push.js';
import type { Device } from '../devices/types.js';
import type { DigitalIo } from '../drivers/io/types.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import type { Journal } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import type { Clock } from '../core/clock.js';
import type { HealthReport } from '../http/server.js';
import type { Histogram } from '../core/metrics.js';
import { MetricsText } from '../core/metrics.js';
import type { RemoteCommands } from './remote.js';

/** The parts of a running gateway its reports read. */
export interface ReportView {
  config: SiteConfig;
  version: string;
  clock: Clock;
  running: boolean;
  uplinkWanted: boolean;
  devices: ReadonlyMap<string, Device>;
  boards: ReadonlyMap<string, DigitalIo>;
  buses: ReadonlyMap<string, ModbusBus>;
  /** devices that push over HTTP (cameras, terminals) */
  pushSources: ReadonlyMap<string, PushSource>;
  journal: Journal | undefined;
  uplink: Uplink | undefined;
  remote: RemoteCommands | undefined;
  access: AccessControl | undefined;
  actuation: Histogram;
  unmatchedPushes: { refused: number; 'unknown-camera': number };
  /** answers sent while what they answered was not on disk */
  acksAtRisk: number;
  fireAlarmActive: boolean;
}

export function healthReport(g: ReportView): HealthReport {
  let ok = 0;
  let fault = 0;
  for (const device of g.devices.values()) device.snapshot().fault === null ? ok++ : fault++;
  const uplink = { connected: g.uplink?.connected ?? false, backlog: g.journal?.lastStats?.depth ?? 0 };
  const uplinkWanted = g.uplinkWanted;
  const journalBad = g.journal !== undefined && g.journal.condition !== 'ok';
  const degraded = fault > 0 || (uplinkWanted && !uplink.connected) || journalBad || !g.running;
  const stats = g.journal?.lastStats;
  const journal = g.journal
    ? {
        depth: stats?.depth ?? 0,
        oldestPendingAgeSec: stats?.oldestPendingTime ? Math.max(0, Math.round((g.clock.now() - Date.parse(stats.oldestPendingTime)) / 1000)) : null,
        usedBytes: stats?.usedBytes ?? 0,
        maxBytes: g.config.storage.maxBytes,
        condition: g.journal.condition,
        lastSeq: g.journal.seq,
        acksAtRisk: g.acksAtRisk,
      }
    : undefined;
  const boards = Object.fromEntries([...g.boards].map(([id, b]) => [id, { online: b.online }]));
  const buses = Object.fromEntries([...g.buses].map(([id, b]) => [id, { connected: b.connected }]));
  // Each kind with a health entry lists its devices under its group (devices/<kind>/index.ts).
  const groups: Record<string, Record<string, object>> = {};
  for (const device of g.devices.values()) {
    const group = kindOf(device.type)?.health;
    if (group && device.health) (groups[group.group] ??= {})[device.id] = device.health();
  }
  for (const kind of Object.values(KINDS) as Kind[]) if (kind.health?.always) groups[kind.health.group] ??= {};
  return {
    status: degraded ? 'degraded' : 'ok',
    uplink,
    devices: { ok, fault },
    fireAlarm: g.fireAlarmActive,
    boards,
    buses,
    ...groups,
    ...(g.access?.carParks.states().length ? { carParks: Object.fromEntries(g.access.carParks.states().map(({ id, ...park }) => [id, park])) } : {}),
    ...(journal ? { journal } : {}),
  };
}

export function metricsPage(g: ReportView): string {
  const m = new MetricsText();
  const stats = g.journal?.lastStats;
  const health = healthReport(g);
  m.metric('estate_gateway_up', 'gauge', '1 while the gateway runs', [[{ version: g.version }, 1]]);
  const mem = process.memoryUsage();
  m.metric('process_resident_memory_bytes', 'gauge', 'resident memory of the gateway process', [[{}, mem.rss]]);
  m.metric('nodejs_heap_used_bytes', 'gauge', 'JavaScript heap in use (main thread)', [[{}, mem.heapUsed]]);
  m.metric('nodejs_heap_total_bytes', 'gauge', 'JavaScript heap reserved (main thread)', [[{}, mem.heapTotal]]);
  m.metric('nodejs_external_memory_bytes', 'gauge', 'memory held for JavaScript objects outside the heap (buffers)', [[{}, mem.external]]);
  m.metric('estate_gateway_journal_depth', 'gauge', 'events journaled and not yet forwarded', [[{}, stats?.depth ?? 0]]);
  m.metric('estate_gateway_journal_oldest_unsent_age_seconds', 'gauge', 'age of the oldest event not yet forwarded', [
    [{}, health.journal?.oldestPendingAgeSec ?? 0],
  ]);
  m.metric('estate_gateway_journal_used_bytes', 'gauge', 'bytes the journal uses', [[{}, stats?.usedBytes ?? 0]]);
  m.metric('estate_gateway_acks_at_risk_total', 'counter', 'answers (camera 200s, command replies, API changes) sent while the journal could not commit', [
    [{}, g.acksAtRisk],
  ]);
  m.metric('estate_gateway_journal_last_seq', 'gauge', 'the last sequence number given', [[{}, g.journal?.seq ?? 0]]);
  const up = g.uplink?.stats();
  m.metric('estate_gateway_uplink_connected', 'gauge', '1 while connected to the broker', [[{}, up?.connected ? 1 : 0]]);
  m.metric('estate_gateway_uplink_published_total', 'counter', 'events published', [[{}, up?.published ?? 0]]);
  m.metric('estate_gateway_uplink_forwarded_total', 'counter', 'events acknowledged by the broker (PUBACK)', [[{}, up?.acked ?? 0]]);
  m.metric('estate_gateway_uplink_reconnects_total', 'counter', 'reconnect attempts', [[{}, up?.reconnects ?? 0]]);
  const buses = [...g.buses.values()].map((b) => [b.id, b.stats()] as const);
  m.metric(
    'estate_gateway_bus_transactions_total',
    'counter',
    'Modbus transactions',
    buses.map(([id, s]) => [{ bus: id }, s.transactions] as [Record<string, string>, number]),
  );
  m.metric(
    'estate_gateway_bus_errors_total',
    'counter',
    'Modbus errors by kind',
    buses.flatMap(([id, s]) => [
      [{ bus: id, kind: 'timeout' }, s.timeouts],
      [{ bus: id, kind: 'bad-frame' }, s.badFrames],
      [{ bus: id, kind: 'exception' }, s.exceptions],
      [{ bus: id, kind: 'backed-off' }, s.backedOff],
    ]) as Array<[Record<string, string>, number]>,
  );
  m.metric('estate_gateway_camera_pushes_total', 'counter', 'camera and terminal pushes by result (label camera: the device id)', [
    ...[...g.pushSources.values()].flatMap((c) =>
      Object.entries(c.counts).map(([result, n]) => [{ camera: c.id, result }, n] as [Record<string, string>, number]),
    ),
    [{ camera: '', result: 'refused' }, g.unmatchedPushes.refused],
    [{ camera: '', result: 'unknown-camera' }, g.unmatchedPushes['unknown-camera']],
  ]);
  m.metric(
    'estate_gateway_actuation_seconds',
    'histogram',
    'camera push or console command to lane or door output written',
    g.actuation.lines('estate_gateway_actuation_seconds'),
  );
  m.metric('estate_gateway_devices', 'gauge', 'devices by health', [
    [{ health: 'ok' }, health.devices.ok],
    [{ health: 'fault' }, health.devices.fault],
  ]);
  m.metric('estate_gateway_fire_alarm', 'gauge', '1 while the fire alarm is active', [[{}, g.fireAlarmActive ? 1 : 0]]);
  m.metric('estate_gateway_visitors_waiting', 'gauge', 'vehicles held for a staff decision', [[{}, g.access?.waiting().length ?? 0]]);
  m.metric('estate_gateway_commands_total', 'counter', 'remote commands by outcome', [
    [{ outcome: 'accepted' }, g.remote?.counts.accepted ?? 0],
    [{ outcome: 'refused' }, g.remote?.counts.refused ?? 0],
  ]);
  return m.toString();
}
