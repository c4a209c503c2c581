/**
 * The common RS485 Modbus relay boards (`type: modbus-relay`): channel n is coil n-1 (outputs)
 * and discrete input n-1 (inputs), on a bus shared with meters.
 *
 * Every pollMs the board reads its inputs (FC02) and its coils (FC01). Inputs that changed are
 * reported; a coil that is not what was asked (the board lost power and came back with its relays
 * off) is written again. Writes go to the front of the bus queue. Two failed polls in a row take
 * the board offline, so its devices fault; the next good poll brings it back.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ModbusBus } from '../modbus/types.js';
import type { PinDirection } from '../../config/pins.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from './types.js';

const FAILED_POLLS_OFFLINE = 2;

export interface ModbusRelayOptions {
  bus: ModbusBus;
  unit: number;
  channels: number;
  pollMs: number;
  log: Logger;
  clock?: Clock;
}

export class ModbusRelayBoard implements DigitalIo {
  readonly type = 'modbus-relay';
  private readonly pins = new Map<number, { direction: PinDirection; value: Level }>();
  private readonly watchers = new Map<number, Set<(value: Level) => void>>();
  private readonly statusListeners = new Set<(status: BoardStatus) => void>();
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private failedPolls = 0;
  private isOnline = false;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly o: ModbusRelayOptions,
  ) {
    this.clock = o.clock ?? systemClock;
  }

  get online(): boolean {
    return this.isOnline;
  }

  /** Plans the pins and polls once, so a board that answers starts online. */
  async open(plan: readonly PinPlan[]): Promise<void> {
    for (const { pin, direction } of plan) {
      if (pin < 1 || pin > this.o.channels) {
        throw new GatewayError('PIN_UNKNOWN', `modbus-relay board ${this.id}: channel ${pin} is outside 1-${this.o.channels}`, { pin });
      }
      this.pins.set(pin, { direction, value: 0 });
    }
    await this.poll();
  }

  read(pin: number): Level {
    return this.entry(pin).value;
  }

  write(pin: number, value: Level): Promise<void> {
    const entry = this.entry(pin);
    if (entry.direction !== 'out') throw new GatewayError('PIN_DIRECTION', `modbus-relay board ${this.id}: channel ${pin} is an input`, { pin });
    entry.value = value;
    return this.o.bus.request(this.o.unit, { fc: 5, address: pin - 1, value: value === 1 }, { priority: 'high' }).then(() => undefined);
  }

  watch(pin: number, listener: (value: Level) => void): () => void {
    this.entry(pin);
    const set = this.watchers.get(pin) ?? new Set();
    set.add(listener);
    this.watchers.set(pin, set);
    return () => set.delete(listener);
  }

  onStatus(listener: (status: BoardStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.isOnline = false;
  }

  private span(direction: PinDirection): { address: number; count: number } | undefined {
    const pins = [...this.pins].filter(([, e]) => e.direction === direction).map(([p]) => p);
    if (!pins.length) return undefined;
    const first = Math.min(...pins);
    return { address: first - 1, count: Math.max(...pins) - first + 1 };
  }

  private lastPollAt: number | undefined;

  alive(now: number): boolean {
    return this.closed || this.lastPollAt === undefined || now - this.lastPollAt <= this.o.pollMs * 3 + 60_000;
  }

  private async poll(): Promise<void> {
    try {
      const inputs = this.span('in');
      if (inputs) {
        const { bits = [] } = await this.o.bus.request(this.o.unit, { fc: 2, ...inputs });
        bits.forEach((bit, i) => this.reported(inputs.address + 1 + i, bit ? 1 : 0));
      }
      const coils = this.span('out') ?? { address: 0, count: 1 };
      const { bits = [] } = await this.o.bus.request(this.o.unit, { fc: 1, ...coils });
      bits.forEach((bit, i) => {
        const pin = coils.address + 1 + i;
        const entry = this.pins.get(pin);
        if (entry?.direction === 'out' && entry.value !== (bit ? 1 : 0) && this.isOnline) {
          this.o.log.warn({ board: this.id, channel: pin, want: entry.value }, 'relay not as set (board restarted?); writing it again');
          this.write(pin, entry.value).catch(() => undefined);
        }
      });
      this.failedPolls = 0;
      this.setOnline(true);
    } catch (err) {
      this.failedPolls++;
      if (this.failedPolls >= FAILED_POLLS_OFFLINE || !this.isOnline) this.setOnline(false, errorMessage(err));
    }
    this.lastPollAt = this.clock.now();
    if (!this.closed) this.timer = this.clock.setTimeout(() => void this.poll(), this.o.pollMs);
  }

  private reported(pin: number, value: Level): void {
    const entry = this.pins.get(pin);
    if (!entry || entry.direction !== 'in' || entry.value === value) return;
    entry.value = value;
    for (const listener of this.watchers.get(pin) ?? []) listener(value);
  }

  private setOnline(online: boolean, reason?: string): void {
    if (online === this.isOnline) return;
    this.isOnline = online;
    for (const listener of this.statusListeners) listener(online ? { online } : { online, reason: reason ?? 'offline' });
  }

  private entry(pin: number) {
    const entry = this.pins.get(pin);
    if (!entry) throw new GatewayError('PIN_UNKNOWN', `modbus-relay board ${this.id}: channel ${pin} is not used by any device`, { pin });
    return entry;
  }
}
