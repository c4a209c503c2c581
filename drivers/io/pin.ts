/**
 * Logical pins: the one place where `activeLow` is applied and inputs are debounced. Devices
 * speak only of active/inactive ("unlocked", "vehicle present"), never of electrical levels.
 */
import type { PinRef } from '../../schema/sections.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { DigitalIo, Level } from './types.js';

/** Contacts bounce for a few milliseconds; 30 ms hides that and stays far below a person's notice. */
export const DEFAULT_DEBOUNCE_MS = 30;

function toLevel(active: boolean, activeLow: boolean): Level {
  return active !== activeLow ? 1 : 0;
}

export class OutputPin {
  private last: boolean | undefined;

  constructor(
    readonly board: DigitalIo,
    readonly ref: PinRef,
  ) {}

  /** Sets the pin. The level is applied before this returns; the promise is the board's confirmation. */
  set(active: boolean): Promise<void> {
    this.last = active;
    try {
      return this.board.write(this.ref.pin, toLevel(active, this.ref.activeLow));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The level last asked for, or undefined before the first set. */
  get requested(): boolean | undefined {
    return this.last;
  }

  /** Writes the last requested level again, after a board comes back. */
  reassert(): Promise<void> {
    return this.last === undefined ? Promise.resolve() : this.set(this.last);
  }
}

export class InputPin {
  private stable: boolean;
  private timer: TimerHandle | undefined;
  private readonly listeners = new Set<(active: boolean) => void>();
  private unwatch: (() => void) | undefined;
  readonly debounceMs: number;

  constructor(
    readonly board: DigitalIo,
    readonly ref: PinRef,
    private readonly clock: Clock,
  ) {
    this.debounceMs = ref.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.stable = this.raw();
  }

  /** The debounced logical value. */
  get active(): boolean {
    return this.stable;
  }

  /** Starts watching the board; a change is reported once it has held for debounceMs. */
  start(): void {
    if (this.unwatch) return;
    this.stable = this.raw();
    this.unwatch = this.board.watch(this.ref.pin, () => this.onRawChange());
  }

  onChange(listener: (active: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private raw(): boolean {
    return (this.board.read(this.ref.pin) === 1) !== this.ref.activeLow;
  }

  private onRawChange(): void {
    if (this.debounceMs === 0) return this.settle();
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.settle();
    }, this.debounceMs);
  }

  private settle(): void {
    const value = this.raw();
    if (value === this.stable) return;
    this.stable = value;
    for (const listener of this.listeners) listener(value);
  }
}
