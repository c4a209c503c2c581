/**
 * The simulated I/O board: state per instance, inputs settable, outputs observable with a
 * timestamped history of every change, for tests, the demo and commissioning rehearsals.
 */
import { appendFileSync } from 'node:fs';
import type { PinDirection } from '../../schema/sections.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { GatewayError } from '../../core/errors.js';
import { BoardBase } from './board-base.js';
import type { PinEntry } from './board-base.js';
import type { Level, PinPlan } from './types.js';

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

export class SimBoard extends BoardBase {
  readonly type = 'sim';
  readonly history: PinChange[] = [];
  private readonly changeListeners = new Set<(change: PinChange) => void>();
  private readonly noteListeners = new Set<(note: string) => void>();
  private readonly clock: Clock;
  private readonly timers = new Set<TimerHandle>();

  constructor(
    id: string,
    private readonly options: SimBoardOptions = {},
  ) {
    super(id);
    this.clock = options.clock ?? systemClock;
  }

  async open(plan: readonly PinPlan[]): Promise<void> {
    this.planPins(plan);
    this.setOnline(true);
    if (this.options.script) this.play(this.options.script.steps, this.options.script.repeatMs);
  }

  protected applyLevel(pin: number, value: Level): void {
    this.change(pin, this.entry(pin), value);
  }

  async close(): Promise<void> {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.closed();
  }

  // --- simulation controls -------------------------------------------------------------------

  /** Sets an input as the wiring would (electrical level). Throws for outputs and unknown pins. */
  setInput(pin: number, value: Level): void {
    const state = this.entry(pin);
    if (state.direction !== 'in') {
      throw new GatewayError('PIN_DIRECTION', `sim board ${this.id}: pin ${pin} is an output`, { pin });
    }
    this.change(pin, state, value);
  }

  /** Takes the board away or brings it back, as an unplugged USB board or a dead bus would. */
  override setOnline(online: boolean, reason = 'simulated'): void {
    super.setOnline(online, reason);
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
        if (this.online) this.setInput(step.pin, step.value);
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

  /** Every write and input change goes into the history (and the trace file), repeats too. */
  private change(pin: number, state: PinEntry, value: Level): void {
    const entry: PinChange = { time: this.clock.now(), pin, direction: state.direction, value };
    this.history.push(entry);
    if (this.options.traceFile) {
      appendFileSync(this.options.traceFile, `${JSON.stringify({ board: this.id, ...entry })}\n`);
    }
    if (state.value === value) return;
    if (state.direction === 'in') this.reported(pin, value);
    else state.value = value;
    for (const listener of this.changeListeners) listener(entry);
  }
}
