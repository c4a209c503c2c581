/**
 * The simulated I/O board: state per instance, inputs settable, outputs observable with a
 * timestamped history of every change, for tests, the demo and commissioning rehearsals.
 */
import { appendFileSync } from 'node:fs';
import type { PinDirection } from '../../config/pins.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { GatewayError } from '../../core/errors.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from './types.js';

export interface PinChange {
  /** clock time in ms */
  time: number;
  pin: number;
  direction: PinDirection;
  value: Level;
}

export interface SimStep {
  /** ms after the board opens (or after the start of each repetition) */
  at: number;
  pin: number;
  value: Level;
  note?: string;
}

export interface SimBoardOptions {
  clock?: Clock;
  /** append every change as a JSON line here, written before write() returns */
  traceFile?: string;
  /** input changes the board plays by itself once opened */
  script?: { steps: readonly SimStep[]; repeatMs?: number };
}

export class SimBoard implements DigitalIo {
  readonly type = 'sim';
  readonly history: PinChange[] = [];
  private readonly pins = new Map<number, { direction: PinDirection; value: Level }>();
  private readonly watchers = new Map<number, Set<(value: Level) => void>>();
  private readonly statusListeners = new Set<(status: BoardStatus) => void>();
  private readonly changeListeners = new Set<(change: PinChange) => void>();
  private readonly noteListeners = new Set<(note: string) => void>();
  private readonly clock: Clock;
  private readonly timers = new Set<TimerHandle>();
  private isOnline = false;

  constructor(
    readonly id: string,
    private readonly options: SimBoardOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  get online(): boolean {
    return this.isOnline;
  }

  async open(plan: readonly PinPlan[]): Promise<void> {
    for (const { pin, direction } of plan) {
      const existing = this.pins.get(pin);
      if (existing && existing.direction !== direction) {
        throw new GatewayError('PIN_DIRECTION', `sim board ${this.id}: pin ${pin} planned as both input and output`, { pin });
      }
      if (!existing) this.pins.set(pin, { direction, value: 0 });
    }
    this.isOnline = true;
    if (this.options.script) this.play(this.options.script.steps, this.options.script.repeatMs);
  }

  read(pin: number): Level {
    return this.pin(pin).value;
  }

  write(pin: number, value: Level): Promise<void> {
    const state = this.pin(pin);
    if (state.direction !== 'out') {
      throw new GatewayError('PIN_DIRECTION', `sim board ${this.id}: pin ${pin} is an input`, { pin });
    }
    if (!this.isOnline) return Promise.reject(new GatewayError('BOARD_OFFLINE', `sim board ${this.id} is offline`));
    this.change(pin, state, value);
    return Promise.resolve();
  }

  watch(pin: number, listener: (value: Level) => void): () => void {
    this.pin(pin);
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
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.watchers.clear();
    this.isOnline = false;
  }

  // --- simulation controls -------------------------------------------------------------------

  /** Sets an input as the wiring would (electrical level). Throws for outputs and unknown pins. */
  setInput(pin: number, value: Level): void {
    const state = this.pin(pin);
    if (state.direction !== 'in') {
      throw new GatewayError('PIN_DIRECTION', `sim board ${this.id}: pin ${pin} is an output`, { pin });
    }
    this.change(pin, state, value);
  }

  /** Takes the board away or brings it back, as an unplugged USB board or a dead bus would. */
  setOnline(online: boolean, reason = 'simulated'): void {
    if (online === this.isOnline) return;
    this.isOnline = online;
    for (const listener of this.statusListeners) listener(online ? { online } : { online, reason });
  }

  /** Observes every change of every pin (outputs included): for behaviours and the demo. */
  onChange(listener: (change: PinChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Plays input changes on the board's clock, once or every `repeatMs`. */
  play(steps: readonly SimStep[], repeatMs?: number): void {
    for (const step of steps) {
      this.schedule(step.at, () => {
        if (step.note) for (const listener of this.noteListeners) listener(step.note);
        if (this.isOnline) this.setInput(step.pin, step.value);
      });
    }
    if (repeatMs) this.schedule(repeatMs, () => this.play(steps, repeatMs));
  }

  private schedule(ms: number, fn: () => void): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
  }

  /** Hears the notes of scripted steps ("a resident presses the exit button"). */
  onNote(listener: (note: string) => void): () => void {
    this.noteListeners.add(listener);
    return () => this.noteListeners.delete(listener);
  }

  /** The pins this board was opened with. */
  plan(): PinPlan[] {
    return [...this.pins].map(([pin, { direction }]) => ({ pin, direction }));
  }

  /** The timestamped history of one pin: `[time, value]` pairs. */
  historyOf(pin: number): Array<[number, Level]> {
    return this.history.filter((c) => c.pin === pin).map((c) => [c.time, c.value]);
  }

  private pin(pin: number): { direction: PinDirection; value: Level } {
    const state = this.pins.get(pin);
    if (!state) throw new GatewayError('PIN_UNKNOWN', `sim board ${this.id}: pin ${pin} is not used by any device`, { pin });
    return state;
  }

  private change(pin: number, state: { direction: PinDirection; value: Level }, value: Level): void {
    const entry: PinChange = { time: this.clock.now(), pin, direction: state.direction, value };
    this.history.push(entry);
    if (this.options.traceFile) {
      appendFileSync(this.options.traceFile, `${JSON.stringify({ board: this.id, ...entry })}\n`);
    }
    if (state.value === value) return;
    state.value = value;
    for (const listener of this.changeListeners) listener(entry);
    if (state.direction === 'in') for (const listener of this.watchers.get(pin) ?? []) listener(value);
  }
}
