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
import type { PinDirection } from '../../schema/sections.js';
import { BoardBase } from './board-base.js';
import type { Level, PinPlan } from './types.js';

const FAILED_POLLS_OFFLINE = 2;

export interface ModbusRelayOptions {
  bus: ModbusBus;
  unit: number;
  channels: number;
  pollMs: number;
  log: Logger;
  clock?: Clock;
}

export class ModbusRelayBoard extends BoardBase {
  readonly type = 'modbus-relay';
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private failedPolls = 0;
  private isClosed = false;

  constructor(
    id: string,
    private readonly o: ModbusRelayOptions,
  ) {
    super(id);
    this.clock = o.clock ?? systemClock;
  }

  protected override pinName(pin: number): string {
    return `channel ${pin}`;
  }

  /** Plans the pins and polls once, so a board that answers starts online. */
  async open(plan: readonly PinPlan[]): Promise<void> {
    this.planPins(plan, (pin) => {
      if (pin < 1 || pin > this.o.channels) {
        throw new GatewayError('PIN_UNKNOWN', `modbus-relay board ${this.id}: channel ${pin} is outside 1-${this.o.channels}`, { pin });
      }
    });
    await this.poll();
  }

  /** The coil is written at the front of the bus queue; the promise is the board's answer. */
  protected applyLevel(pin: number, value: Level): Promise<void> {
    return this.o.bus.request(this.o.unit, { fc: 5, address: pin - 1, value: value === 1 }, { priority: 'high' }).then(() => undefined);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.clock.clearTimeout(this.timer);
    this.closed();
  }

  private span(direction: PinDirection): { address: number; count: number } | undefined {
    const pins = [...this.pins].filter(([, e]) => e.direction === direction).map(([p]) => p);
    if (!pins.length) return undefined;
    const first = Math.min(...pins);
    return { address: first - 1, count: Math.max(...pins) - first + 1 };
  }

  private lastPollAt: number | undefined;

  alive(now: number): boolean {
    return this.isClosed || this.lastPollAt === undefined || now - this.lastPollAt <= this.o.pollMs * 3 + 60_000;
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
        if (entry?.direction === 'out' && entry.value !== (bit ? 1 : 0) && this.online) {
          this.o.log.warn({ board: this.id, channel: pin, want: entry.value }, 'relay not as set (board restarted?); writing it again');
          this.write(pin, entry.value).catch(() => undefined);
        }
      });
      this.failedPolls = 0;
      this.setOnline(true);
    } catch (err) {
      this.failedPolls++;
      if (this.failedPolls >= FAILED_POLLS_OFFLINE || !this.online) this.setOnline(false, errorMessage(err));
    }
    this.lastPollAt = this.clock.now();
    if (!this.isClosed) this.timer = this.clock.setTimeout(() => void this.poll(), this.o.pollMs);
  }
}
