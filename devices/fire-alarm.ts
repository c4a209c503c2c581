/**
 * The fire alarm input. While it is active every door is unlocked and every lane opened, and
 * nothing may lock or close them (docs/safety.md, "Fire alarm"; GB 55024-2022 5.3.6).
 */
import type { InputPin } from '../drivers/io/pin.js';
import type { Clock } from '../core/clock.js';
import type { EventData, EventType } from '../core/events.js';

export interface FireAlarmDeps {
  clock: Clock;
  emit<T extends EventType>(type: T, data: EventData[T]): void;
  /** Called synchronously on every change, right after the event is emitted. */
  changed(active: boolean): void;
}

export class FireAlarm {
  private raisedAt: number | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly input: InputPin | undefined,
    private readonly deps: FireAlarmDeps,
  ) {}

  /** Whether the alarm is active now (false when no fire alarm input is configured). */
  get active(): boolean {
    return this.raisedAt !== undefined;
  }

  /** Reads the input as it is now; called once the boards are open, before any output is set. */
  readInitial(): boolean {
    if (this.input?.active) this.raisedAt = this.deps.clock.now();
    return this.active;
  }

  start(): void {
    if (!this.input) return;
    this.input.start();
    if (this.active) this.deps.emit('fire-alarm.raised', {});
    this.unsubscribe = this.input.onChange((active) => this.onChange(active));
  }

  stop(): void {
    this.unsubscribe?.();
    this.input?.stop();
  }

  private onChange(active: boolean): void {
    if (active === this.active) return;
    const now = this.deps.clock.now();
    const since = this.raisedAt ?? now;
    this.raisedAt = active ? now : undefined;
    // The cause goes in the journal before its effects; emitting never waits on the disk.
    if (active) this.deps.emit('fire-alarm.raised', {});
    else this.deps.emit('fire-alarm.cleared', { durationMs: now - since });
    this.deps.changed(active);
  }
}
