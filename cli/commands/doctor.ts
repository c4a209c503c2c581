/**
 * `estate-gateway doctor --config FILE`: the installer's commissioning check. Each I/O board
 * (reachable, pins set up) and bus, the visitor pass key, then each device kind's own checks
 * (devices/<kind>/index.ts `doctor`: a meter's live read, a camera's or terminal's last push, a
 * reader's device), the broker (connect, TLS, publish and subscribe rights), disk space for the
 * journal budget, and the clock. One line per check with ok/FAIL and, for a failure, what to do.
 * Exit 1 if anything failed.
 *
 * While the gateway service runs it owns the boards and the serial ports: the doctor then
 * reports boards, buses, meters and cameras as the running gateway sees them (GET /api/health)
 * instead of opening the hardware a second time.
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadPublicKey } from '../../access/passes.js';
import { loadConfigFile, topicPrefix } from '../../config/load.js';
import type { LoadedConfig } from '../../config/load.js';
import type { SiteConfig } from '../../config/schema.js';
import type { Check, DoctorContext, Kind } from '../../devices/kind.js';
import { KINDS } from '../../devices/kinds.js';
import { createBoard } from '../../drivers/io/boards.js';
import type { DigitalIo } from '../../drivers/io/types.js';
import type { ModbusBus } from '../../drivers/modbus/types.js';
import { connectionOptions } from '../../uplink/uplink.js';
import { systemClock, withTimeout } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { readClockSync } from '../../core/clock-sync.js';
import { pinPlans } from '../../gateway/hardware.js';
import type { HealthReport } from '../../http/server.js';
import { parseListen } from '../../http/server.js';
import type { Logger } from '../../core/log.js';
import { JOURNAL_FILE } from '../../journal/journal.js';
import type { Output } from './output.js';

export type { Check, CheckResult as Result } from '../../devices/kind.js';

export interface DoctorOptions {
  configFile: string;
  dataDir?: string;
  log: Logger;
  /** per-check time limit */
  timeoutMs?: number;
  /** for tests: how to tell whether the clock is synchronised */
  clockCheck?: () => Check;
}

export async function runDoctor(opts: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(opts.configFile);
  } catch (err) {
    const problems = (err as { context?: { problems?: Array<{ path: string; message: string }> } }).context?.problems;
    checks.push({
      name: 'config',
      result: 'FAIL',
      detail: problems?.length ? `${problems.length} problem(s), first: ${problems[0]!.path}: ${problems[0]!.message}` : errorMessage(err),
      hint: `run estate-gateway validate --config ${opts.configFile} and fix each line it prints`,
    });
    return checks;
  }
  const { config } = loaded;
  if (opts.dataDir) config.gateway.dataDir = opts.dataDir;
  checks.push({
    name: 'config',
    result: 'ok',
    detail: `${config.site.id}/${config.gateway.id}: ${config.devices.length} devices, ${config.io.length} boards, ${config.buses.length} buses`,
  });
  const timeout = opts.timeoutMs ?? 5000;

  const running = await runningGateway(config);
  const buses = new Map<string, ModbusBus>();
  try {
    if (running) {
      checks.push({
        name: 'service',
        result: 'ok',
        detail: `a gateway answers on ${config.console.listen}: boards, buses, meters and cameras as it sees them`,
      });
      checks.push(...fromHealth(config, running));
    } else {
      checks.push(...(await hardware(config, opts.log, timeout, buses)));
    }
    checks.push(...passKeyCheck(config));
    // Each kind's own checks, over the site's devices of that kind (devices/<kind>/index.ts).
    const ctx: DoctorContext = {
      health: running,
      port: parseListen(config.console.listen).port,
      busConfigs: config.buses,
      buses,
      passKey: config.access.passes !== undefined,
      timeoutMs: timeout,
      clock: systemClock,
      log: opts.log.child({ component: 'doctor' }),
    };
    for (const [type, kind] of Object.entries(KINDS as Record<string, Kind>)) {
      const devices = config.devices.filter((d) => d.type === type);
      if (kind.doctor && devices.length) checks.push(...(await kind.doctor(devices, ctx)));
    }
  } finally {
    await Promise.allSettled([...buses.values()].map((b) => b.close()));
  }
  checks.push(await brokerCheck(config, timeout));
  checks.push(diskCheck(config));
  checks.push((opts.clockCheck ?? clockCheck)());
  return checks;
}

async function runningGateway(config: SiteConfig): Promise<HealthReport | undefined> {
  try {
    const { host, port } = parseListen(config.console.listen);
    const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const res = await fetch(`http://${target}:${port}/api/health`, { signal: AbortSignal.timeout(1500) });
    return res.ok ? ((await res.json()) as HealthReport) : undefined;
  } catch {
    return undefined;
  }
}

function fromHealth(config: SiteConfig, health: HealthReport): Check[] {
  const checks: Check[] = [];
  for (const board of config.io) {
    const online = health.boards?.[board.id]?.online;
    checks.push(
      online
        ? { name: `board ${board.id}`, result: 'ok', detail: `${board.type}, online` }
        : { name: `board ${board.id}`, result: 'FAIL', detail: `${board.type}, offline`, hint: boardHint(board.type) },
    );
  }
  for (const bus of config.buses) {
    const connected = health.buses?.[bus.id]?.connected;
    checks.push(
      connected
        ? { name: `bus ${bus.id}`, result: 'ok', detail: `${bus.type}, connected` }
        : { name: `bus ${bus.id}`, result: 'FAIL', detail: `${bus.type}, not connected`, hint: busHint(bus) },
    );
  }
  return checks;
}

/** Opens each bus (left open in `buses` for the meters' checks) and each board, and says how it went. */
async function hardware(config: SiteConfig, log: Logger, timeout: number, buses: Map<string, ModbusBus>): Promise<Check[]> {
  const checks: Check[] = [];
  const quiet = log.child({ component: 'doctor' });
  // Modbus (modbus-serial) is loaded only for a site with buses.
  const createBus = config.buses.length ? (await import('../../drivers/modbus/index.js')).createBus : undefined;
  for (const busConfig of config.buses) {
    const bus = createBus!({ ...busConfig, retries: 0 }, { clock: systemClock, log: quiet });
    buses.set(busConfig.id, bus);
    let reason: string | undefined;
    const off = bus.onStatus((s) => void (s.reason && (reason = s.reason)));
    try {
      await withTimeout(systemClock, `bus ${busConfig.id}`, timeout, bus.start());
      if (!bus.connected)
        await withTimeout(systemClock, `bus ${busConfig.id}`, timeout, waitConnected(bus)).catch((err: unknown) => {
          throw reason ? new Error(`cannot connect: ${reason}`) : err;
        });
      off();
      checks.push({
        name: `bus ${busConfig.id}`,
        result: 'ok',
        detail: busConfig.type === 'tcp' ? `tcp ${busConfig.host}:${busConfig.port}` : `rtu ${busConfig.port} ${busConfig.baudRate} baud`,
      });
    } catch (err) {
      off();
      checks.push({ name: `bus ${busConfig.id}`, result: 'FAIL', detail: errorMessage(err), hint: busHint(busConfig) });
    }
  }
  const plans = pinPlans(config);
  const boards: DigitalIo[] = [];
  for (const boardConfig of config.io) {
    const plan = plans.get(boardConfig.id) ?? [];
    try {
      const board = await createBoard(boardConfig, { clock: systemClock, log: quiet, buses });
      boards.push(board);
      await withTimeout(systemClock, `board ${boardConfig.id}`, timeout, board.open(plan));
      if (!board.online) throw new Error('not reachable');
      const outs = plan.filter((p) => p.direction === 'out').length;
      checks.push({
        name: `board ${boardConfig.id}`,
        result: 'ok',
        detail: `${boardConfig.type}, ${plan.length} pins set up (${outs} outputs, ${plan.length - outs} inputs)`,
      });
    } catch (err) {
      checks.push({ name: `board ${boardConfig.id}`, result: 'FAIL', detail: errorMessage(err), hint: boardHint(boardConfig.type) });
    }
  }
  await Promise.allSettled(boards.map((b) => b.close()));
  return checks;
}

/** The visitor pass key: readable as an Ed25519 public key, when one is set. */
function passKeyCheck(config: SiteConfig): Check[] {
  const keyFile = config.access.passes?.publicKey;
  if (!keyFile) return [];
  try {
    loadPublicKey(keyFile);
    return [{ name: 'pass key', result: 'ok', detail: `${keyFile}: an Ed25519 public key; QR visitor passes are checked with it` }];
  } catch (err) {
    return [
      {
        name: 'pass key',
        result: 'FAIL',
        detail: `${keyFile}: ${errorMessage(err)}`,
        hint: "copy the platform's visitor-pass public key (PEM, Ed25519) to that file; until then every QR pass is refused",
      },
    ];
  }
}

function waitConnected(bus: ModbusBus): Promise<void> {
  return new Promise((resolve) => {
    if (bus.connected) return resolve();
    const off = bus.onStatus((s) => {
      if (s.connected) {
        off();
        resolve();
      }
    });
  });
}

async function brokerCheck(config: SiteConfig, timeout: number): Promise<Check> {
  const m = config.upstream?.mqtt;
  if (!m) return { name: 'broker', result: 'skip', detail: 'no upstream configured: events stay local' };
  const urls = m.urls ?? [m.url!];
  const prefix = topicPrefix(config);
  let options: ReturnType<typeof connectionOptions>;
  try {
    options = connectionOptions({
      mqtt: m,
      prefix,
      clientId: `estate-gateway-doctor-${config.gateway.id}`,
      journal: undefined as never,
      log: undefined as never,
      version: '',
      startedAt: '',
    });
  } catch (err) {
    return { name: 'broker', result: 'FAIL', detail: errorMessage(err), hint: 'check the file paths under upstream.mqtt and that this user may read them' };
  }
  const failures: string[] = [];
  for (const url of urls) {
    const client = mqtt.connect(url, {
      ...options,
      clean: true,
      will: undefined,
      reconnectPeriod: 0,
      connectTimeout: timeout,
      clientId: `estate-gateway-doctor-${config.gateway.id}-${process.pid}`,
    });
    try {
      await withTimeout(
        systemClock,
        url,
        timeout + 500,
        new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
          client.once('close', () => reject(new Error('connection closed')));
        }),
      );
      const sub = await withTimeout(systemClock, 'subscribe', timeout, client.subscribeAsync(`${prefix}/cmd`, { qos: 1 }));
      const denied = sub.some((g) => g.qos === 128);
      await withTimeout(systemClock, 'publish', timeout, client.publishAsync(`${prefix}/doctor`, JSON.stringify({ at: new Date().toISOString() }), { qos: 1 }));
      await client.endAsync(true);
      if (denied)
        return {
          name: 'broker',
          result: 'FAIL',
          detail: `${url}: connected, but may not subscribe to ${prefix}/cmd`,
          hint: `allow ${m.username ?? 'this client'} to read ${prefix}/cmd and write ${prefix}/# in the broker's ACL`,
        };
      return {
        name: 'broker',
        result: 'ok',
        detail: `${url}: connected${url.startsWith('mqtts') || url.startsWith('ssl') ? ' (TLS verified)' : ''}, subscribed to ${prefix}/cmd, published to ${prefix}/doctor`,
      };
    } catch (err) {
      client.end(true);
      failures.push(`${url}: ${errorMessage(err)}`);
    }
  }
  return { name: 'broker', result: 'FAIL', detail: failures.join('; '), hint: brokerHint(failures.join(' ')) };
}

function diskCheck(config: SiteConfig): Check {
  const dir = config.gateway.dataDir;
  const existing = existsSync(dir) ? dir : join(dir, '..');
  try {
    const fs = statfsSync(existing);
    const free = fs.bavail * fs.bsize;
    let used = 0;
    for (const f of [JOURNAL_FILE, `${JOURNAL_FILE}-wal`]) {
      try {
        used += statSync(join(dir, f)).size;
      } catch {
        // not there yet
      }
    }
    const budget = config.storage.maxBytes;
    const room = free + used;
    const detail = `${mb(free)} free on ${existing}, journal ${mb(used)} of its ${mb(budget)} budget`;
    if (room < budget)
      return { name: 'disk', result: 'FAIL', detail, hint: `lower storage.maxBytes to at most ${mb(Math.floor(room * 0.9))} or free space on ${existing}` };
    return { name: 'disk', result: 'ok', detail };
  } catch (err) {
    return { name: 'disk', result: 'FAIL', detail: errorMessage(err), hint: `create ${dir} and let the service user write it` };
  }
}

export function clockCheck(): Check {
  const { state, source } = readClockSync();
  const now = new Date().toISOString();
  if (state === 'synced') return { name: 'clock', result: 'ok', detail: `synchronised (${source}, ${now})` };
  if (state === 'unsynced')
    return {
      name: 'clock',
      result: 'FAIL',
      detail: `not synchronised (${now})`,
      hint: 'enable NTP: sudo timedatectl set-ntp true, and let UDP 123 out; a Pi has no battery clock, so event times, fees and expired-command checks depend on it',
    };
  return {
    name: 'clock',
    result: 'warn',
    detail: `cannot tell whether the clock is synchronised here (${now})`,
    hint: 'check with timedatectl or chronyc tracking',
  };
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

function boardHint(type: string): string {
  switch (type) {
    case 'gpio':
      return 'run on a Raspberry Pi with the service user in the gpio group; check /sys/class/gpio exists';
    case 'firmata':
      return 'plug the board in, flash StandardFirmata, check the port (ls /dev/ttyACM* /dev/ttyUSB*) and that the user is in dialout';
    case 'modbus-relay':
      return 'check the relay board unit id (DIP switches), A/B wiring, baud rate and that its bus works';
    default:
      return 'check the board';
  }
}

function busHint(bus: SiteConfig['buses'][number]): string {
  return bus.type === 'tcp'
    ? `check that ${bus.host}:${bus.port} answers Modbus TCP (a gateway or meter with an IP), and no firewall is in between`
    : `check the adapter is plugged in (ls -l ${bus.port}), the user is in the dialout group, and nothing else holds the port`;
}

function brokerHint(text: string): string {
  if (/ECONNREFUSED/.test(text)) return 'the broker refuses connections: check the URL, port and that the broker runs';
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return 'the broker host name does not resolve: check DNS or use an address';
  if (/certificate|self.signed|CERT|UNABLE_TO_VERIFY/i.test(text))
    return 'TLS certificate check failed: set upstream.mqtt.tls.ca to the CA file that signed the broker certificate';
  if (/Not authorized|Bad User Name|bad credentials|code 4|code 5|135|134/i.test(text))
    return 'the broker refused the credentials: check username and passwordFile';
  return 'check the broker URL, port, credentials and the network path';
}

export function formatChecks(checks: readonly Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.name.length), 5);
  const lines = [`${'CHECK'.padEnd(width)}  RESULT  DETAIL`];
  for (const c of checks) {
    lines.push(`${c.name.padEnd(width)}  ${c.result.padEnd(6)}  ${c.detail}`);
    if (c.hint && c.result !== 'ok') lines.push(`${' '.repeat(width)}          hint: ${c.hint}`);
  }
  return lines;
}

export async function doctorCommand(opts: DoctorOptions, out: Output): Promise<number> {
  const checks = await runDoctor(opts);
  for (const line of formatChecks(checks)) out.stdout(line);
  const failed = checks.filter((c) => c.result === 'FAIL').length;
  out.stdout(failed ? `${failed} check(s) failed` : 'all checks passed');
  if (checks[0]?.name === 'config' && checks[0].result === 'FAIL') return 2;
  return failed ? 1 : 0;
}
