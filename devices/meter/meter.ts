/**
 * An energy meter on a Modbus bus: its values read every intervalSec as `meter.reading`
 * telemetry, in as few transactions as its register map allows (plan.ts), or by DL/T 645-2007
 * on the same RS485 line. Meters on one bus are
 * spread over the interval rather than polled in a burst. An energy total that goes backwards or
 * jumps more than maxEnergyJumpKwh is flagged in the reading, not silently forwarded.
 */
import type { MeterConfig, MeterHealth, MeterState } from './index.js';
import { decode } from '../../drivers/modbus/decode.js';
import type { ModbusBus } from '../../drivers/modbus/types.js';
import type { TimerHandle } from '../../core/clock.js';
import { answers, decodeValue, diText, DLT645_DEFAULT_VALUES, DLT645_VALUES, readRequest, scan, valueBytes, WILDCARD } from '../../drivers/dlt645/frame.js';
import { GatewayError, errorMessage, faultCodeOf, isGatewayError } from '../../core/errors.js';
import { DeviceBase } from '../base.js';
import type { CommandResult, Device, DeviceContext, DeviceSnapshot } from '../types.js';
import { refused } from '../types.js';
import type { PlannedRead } from './plan.js';
import { planReads } from './plan.js';
import type { RegisterSpec } from './templates.js';
import { TEMPLATES } from './templates.js';

export function meterSpecs(config: MeterConfig): RegisterSpec[] {
  if (config.model === 'dlt645') return []; // not Modbus registers: see readDlt645
  const base: RegisterSpec[] =
    config.model === 'custom'
      ? (config.registers ?? []).map((r) => ({ name: r.name, fc: r.function, address: r.address, type: r.type, wordOrder: r.wordOrder, scale: r.scale }))
      : TEMPLATES[config.model].map((s) => (config.function ? { ...s, fc: config.function } : s));
  const overrides = config.addressOverrides ?? {};
  return base.map((s) => (overrides[s.name] !== undefined ? { ...s, address: overrides[s.name]! } : s));
}

export function meterPlan(config: MeterConfig): PlannedRead[] {
  const readable: Partial<Record<3 | 4, Array<[number, number]>>> = {};
  for (const r of config.readable ?? []) (readable[r.function] ??= []).push([r.from, r.to]);
  return planReads(meterSpecs(config), readable);
}

/** A block a meter refused is tried again after this many cycles. */
export const RETRY_ABSENT_CYCLES = 10;

/** float32 carries about 7 significant digits; more would be noise from the scaling. */
const tidy = (v: number) => Number(v.toPrecision(7));

/** A block of registers (or a DL/T 645 value) the meter refused: it does not have it. */
export interface RefusedRead {
  /** the planned read (Modbus), absent for DL/T 645 */
  read?: PlannedRead;
  names: string[];
  /** the Modbus exception code (2: no such address, 1: function not supported) */
  exception?: number;
}

export interface MeterReading {
  values: Record<string, number>;
  /** what the meter refused this time: the reading carries the rest */
  refused: RefusedRead[];
}

/**
 * The Modbus exceptions that mean "this meter has no such register (or function)", not "the
 * meter is in trouble": the block is left out of the reading and the rest is read.
 */
const ABSENT_EXCEPTIONS = new Set([1, 2]);

export function refusedAsAbsent(err: unknown): number | undefined {
  if (!isGatewayError(err) || err.code !== 'MODBUS_EXCEPTION') return undefined;
  const code = err.context['exception'];
  return typeof code === 'number' && ABSENT_EXCEPTIONS.has(code) ? code : undefined;
}

/**
 * Reads a meter once by its plan: its values by name, decoded and scaled. A block the meter
 * refuses with exception 1 or 2 (a variant without that register block) is reported in
 * `refused` and the other blocks are still read; a meter that refuses every block, or fails any
 * other way (no answer, a bad frame), fails the reading.
 */
export async function readMeter(bus: Pick<ModbusBus, 'request'>, unit: number, plan: readonly PlannedRead[]): Promise<MeterReading> {
  const values: Record<string, number> = {};
  const refused: RefusedRead[] = [];
  let lastRefusal: unknown;
  for (const read of plan) {
    let registers: number[];
    try {
      ({ registers = [] } = await bus.request(unit, { fc: read.fc, address: read.address, count: read.count }));
    } catch (err) {
      const exception = refusedAsAbsent(err);
      if (exception === undefined) throw err;
      lastRefusal = err;
      refused.push({ read, names: read.values.map((v) => v.name), exception });
      continue;
    }
    for (const v of read.values) values[v.name] = tidy(decode(registers, v.offset, v.type, v.wordOrder) * v.scale);
  }
  if (plan.length > 0 && refused.length === plan.length) throw lastRefusal;
  return { values, refused };
}

/**
 * Reads a DL/T 645 meter once, a request per value, on the same queue as the Modbus traffic of
 * its bus. A value the meter does not have (it answers "no such data") is left out; a meter
 * that has none of them, or does not answer, fails the reading.
 */
export async function readDlt645(bus: Pick<ModbusBus, 'exchange'>, address: string, names: readonly string[]): Promise<MeterReading> {
  const values: Record<string, number> = {};
  const refused: RefusedRead[] = [];
  let refusal: unknown;
  for (const name of names) {
    const v = DLT645_VALUES.find((x) => x.name === name);
    if (!v) throw new GatewayError('CONFIG_INVALID', `no DL/T 645 value "${name}"`);
    try {
      const bytes = await bus.exchange(
        { key: `dlt645:${address}`, who: `meter ${address}`, what: `DI ${diText(v.di)}` },
        readRequest(address, v.di),
        (received) => {
          // Frames that are not the answer (an adapter's echo of the request, another meter) are passed over.
          for (let rest = received; ; ) {
            const found = scan(rest);
            if (found.kind !== 'frame') return undefined;
            if (answers(found.frame, address, v.di)) return valueBytes(found.frame, v.di);
            rest = rest.subarray(found.end);
          }
        },
      );
      values[name] = decodeValue(v, bytes);
    } catch (err) {
      if (!isGatewayError(err) || err.code !== 'DLT645_REFUSED') throw err;
      refusal = err;
      refused.push({ names: [name] });
    }
  }
  if (Object.keys(values).length === 0 && refusal) throw refusal;
  return { values, refused };
}

/** One reading of any meter, by its protocol. */
export function readOnce(bus: Pick<ModbusBus, 'request' | 'exchange'>, config: MeterConfig, plan: readonly PlannedRead[]): Promise<MeterReading> {
  if (config.model === 'dlt645') return readDlt645(bus, config.address ?? WILDCARD, config.values ?? DLT645_DEFAULT_VALUES);
  return readMeter(bus, config.unit ?? 1, plan);
}

/** How installers and the doctor name a meter on its bus. */

export interface MeterContext extends DeviceContext {
  bus: ModbusBus;
  /** where in the interval this meter is polled, 0 <= phase < 1 */
  phase: number;
}

export class Meter extends DeviceBase<MeterState> implements Device {
  readonly type = 'meter' as const;
  readonly id: string;
  readonly plan: PlannedRead[];
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;
  private last: Record<string, number> | undefined;
  private lastAt: number | undefined;
  /** how long the last complete poll cycle took on the bus, in ms */
  lastCycleMs: number | undefined;
  private readonly energy = new Map<string, number>();
  /** blocks the meter refused, by the planned read, and the cycle they are tried again on */
  private readonly absent = new Map<PlannedRead, { names: string[]; retryAt: number }>();
  private cycles = 0;

  constructor(
    private readonly config: MeterConfig,
    private readonly mctx: MeterContext,
  ) {
    super(mctx);
    this.id = config.id;
    this.plan = meterPlan(config);
  }

  applySafeState(): void {
    // A meter has no outputs.
  }

  /** Whether the poller still makes progress: a cycle ended (well or not) recently enough. */
  alive(now: number): boolean {
    return now - this.lastProgressAt <= this.config.intervalSec * 1000 * 2 + 120_000;
  }

  private lastProgressAt = 0;

  start(): void {
    this.lastProgressAt = this.mctx.clock.now();
    const interval = this.config.intervalSec * 1000;
    const first = this.mctx.clock.now() + Math.floor(this.mctx.phase * interval);
    this.schedule(first, interval);
    this.publishState();
  }

  stop(): void {
    this.stopped = true;
    this.mctx.clock.clearTimeout(this.timer);
  }

  command(): CommandResult {
    return refused('not-supported', `${this.id} is a meter; it has nothing to open or close`);
  }

  fireAlarmChanged(): void {}

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, this.last ? 'ok' : 'waiting', {
      model: this.config.model,
      values: this.last ?? {},
      readAt: this.lastAt === undefined ? null : new Date(this.lastAt).toISOString(),
      cycleMs: this.lastCycleMs === undefined ? null : Math.round(this.lastCycleMs),
    });
  }

  /** Its entry in /api/health (`meters`): when it was last read, and its fault. */
  health(): MeterHealth {
    return { state: this.last ? 'ok' : 'waiting', readAt: this.lastAt === undefined ? null : new Date(this.lastAt).toISOString(), fault: this.fault };
  }

  /** Cycles keep to their slots (start + k x interval), so a slow cycle does not drift the rest. */
  private schedule(at: number, interval: number): void {
    if (this.stopped) return;
    this.timer = this.mctx.clock.setTimeout(
      () => {
        void this.cycle();
        let next = at + interval;
        const now = this.mctx.clock.now();
        if (next <= now) next += Math.ceil((now - next + 1) / interval) * interval;
        this.schedule(next, interval);
      },
      Math.max(0, at - this.mctx.clock.now()),
    );
  }

  private async cycle(): Promise<void> {
    if (this.running) return; // the previous cycle still runs: skip this slot rather than queue up
    this.running = true;
    const started = performance.now();
    try {
      this.cycles++;
      // Blocks the meter refused are left out, and tried again every RETRY_ABSENT_CYCLES cycles
      // (a meter swapped for a fuller model, or a firmware update, brings them back).
      const plan = this.plan.filter((r) => (this.absent.get(r)?.retryAt ?? 0) <= this.cycles);
      const { values, refused } = await readOnce(this.mctx.bus, this.config, plan.length ? plan : this.plan);
      if (this.stopped) return;
      for (const read of plan) if (!refused.some((r) => r.read === read)) this.absent.delete(read);
      for (const r of refused) if (r.read) this.absent.set(r.read, { names: r.names, retryAt: this.cycles + RETRY_ABSENT_CYCLES });
      const missing = [...this.absent.values()]
        .flatMap((a) => a.names)
        .concat(refused.filter((r) => !r.read).flatMap((r) => r.names))
        .sort();
      this.lastCycleMs = performance.now() - started;
      this.recovered();
      const flags = this.checkEnergy(values);
      const first = this.last === undefined;
      this.last = values;
      this.lastAt = this.mctx.clock.now();
      this.ctx.emit('meter.reading', { values, ...(flags.length ? { flags } : {}), ...(missing.length ? { missing } : {}) });
      // The retained state says whether the meter answers; its values travel as telemetry.
      // Publishing every reading again as state would double the traffic of a busy bus.
      if (first) this.publishState();
    } catch (err) {
      if (!this.stopped) this.failed(err);
    } finally {
      this.running = false;
      this.lastProgressAt = this.mctx.clock.now();
    }
  }

  private checkEnergy(values: Record<string, number>): string[] {
    const flags: string[] = [];
    for (const [name, value] of Object.entries(values)) {
      if (!name.endsWith('Kwh')) continue;
      const previous = this.energy.get(name);
      if (previous !== undefined) {
        if (value < previous - 0.001) flags.push(`${name}:backwards`);
        else if (value - previous > this.config.maxEnergyJumpKwh) flags.push(`${name}:jump`);
      }
      this.energy.set(name, value);
    }
    return flags;
  }

  private failed(err: unknown): void {
    const code = faultCodeOf(err);
    if (this.ownFault === null) {
      this.ownFault = code;
      this.ctx.emit('device.fault', { code, message: errorMessage(err) });
      this.publishState();
    }
  }

  private recovered(): void {
    if (this.ownFault === null) return;
    const code = this.ownFault;
    this.ownFault = null;
    this.ctx.emit('device.recovered', { code });
  }
}
