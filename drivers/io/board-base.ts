/**
 * What every I/O board does the same way, written once: the pin table, watchers, status
 * listeners, direction checks and the offline rule. A board kind adds only how it talks to its
 * hardware (`applyLevel`, and calling `reported` / `setOnline` as the hardware tells it things).
 * Every board runs the one conformance suite (test/boards-conformance.test.ts).
 *
 * The rules, as types.ts states them:
 * - a pin not in the plan is PIN_UNKNOWN; writing an input is PIN_DIRECTION (thrown at once);
 * - a write to an offline board is refused (rejected with BOARD_OFFLINE) and leaves the cached
 *   level as it was: `read` never reports a level the hardware was not given. The device that owns
 *   the output writes it again when the board comes back;
 * - watchers hear each change of an input once, as the hardware reports it, no debounce.
 */
import type { PinDirection } from '../../schema/sections.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from './types.js';

export interface PinEntry {
  direction: PinDirection;
  value: Level;
}

export abstract class BoardBase implements DigitalIo {
  abstract readonly type: string;
  protected readonly pins = new Map<number, PinEntry>();
  private readonly watchers = new Map<number, Set<(value: Level) => void>>();
  private readonly statusListeners = new Set<(status: BoardStatus) => void>();
  private isOnline = false;

  protected constructor(readonly id: string) {}

  get online(): boolean {
    return this.isOnline;
  }

  abstract open(plan: readonly PinPlan[]): Promise<void>;
  abstract close(): Promise<void>;

  /**
   * Sets an output on the hardware. Local boards set the level before returning; the promise is
   * the hardware's confirmation. Throwing (or rejecting) means the hardware did not take it.
   */
  protected abstract applyLevel(pin: number, value: Level): Promise<void> | void;

  /** How this board's pins are named in messages (`BCM 17`, `channel 3`). */
  protected pinName(pin: number): string {
    return `pin ${pin}`;
  }

  read(pin: number): Level {
    return this.entry(pin).value;
  }

  write(pin: number, value: Level): Promise<void> {
    const entry = this.entry(pin);
    if (entry.direction !== 'out') throw new GatewayError('PIN_DIRECTION', `${this.type} board ${this.id}: ${this.pinName(pin)} is an input`, { pin });
    if (!this.isOnline) return Promise.reject(new GatewayError('BOARD_OFFLINE', `${this.type} board ${this.id} is offline`, { pin }));
    let confirmed: Promise<void> | void;
    try {
      confirmed = this.applyLevel(pin, value);
    } catch (err) {
      return Promise.reject(
        new GatewayError('BOARD_OFFLINE', `${this.type} board ${this.id}: write to ${this.pinName(pin)} failed: ${errorMessage(err)}`, { pin }),
      );
    }
    entry.value = value;
    return Promise.resolve(confirmed);
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

  /** Takes the plan into the pin table; a pin planned both ways is PIN_DIRECTION. */
  protected planPins(plan: readonly PinPlan[], check?: (pin: number) => void): void {
    for (const { pin, direction } of plan) {
      check?.(pin);
      const existing = this.pins.get(pin);
      if (existing && existing.direction !== direction) {
        throw new GatewayError('PIN_DIRECTION', `${this.type} board ${this.id}: ${this.pinName(pin)} planned as both input and output`, { pin });
      }
      if (!existing) this.pins.set(pin, { direction, value: 0 });
    }
  }

  /** The hardware says an input now reads `value`: watchers hear it if it changed. */
  protected reported(pin: number, value: Level): void {
    const entry = this.pins.get(pin);
    if (entry?.direction !== 'in' || entry.value === value) return;
    entry.value = value;
    for (const listener of this.watchers.get(pin) ?? []) listener(value);
  }

  /** why it is offline, as it last said (also when it went offline before anyone listened) */
  offlineReason: string | undefined;

  protected setOnline(online: boolean, reason?: string): void {
    this.offlineReason = online ? undefined : (reason ?? 'offline');
    if (online === this.isOnline) return;
    this.isOnline = online;
    for (const listener of this.statusListeners) listener(online ? { online } : { online, reason: reason ?? 'offline' });
  }

  /** Forgets watchers and goes offline without telling anyone (close). */
  protected closed(): void {
    this.watchers.clear();
    this.isOnline = false;
  }

  protected entry(pin: number): PinEntry {
    const entry = this.pins.get(pin);
    if (!entry) throw new GatewayError('PIN_UNKNOWN', `${this.type} board ${this.id}: ${this.pinName(pin)} is not used by any device`, { pin });
    return entry;
  }
}
