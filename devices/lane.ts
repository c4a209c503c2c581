/**
 * What barriers and bollards share: the safety loop and its 1 s hold-off (docs/safety.md, "Never
 * close or raise on a vehicle: inhibit until 1 s after the safety loop clears").
 */
import type { PinRef } from '../schema/sections.js';
import type { InputPin } from '../drivers/io/pin.js';
import type { Clock } from '../core/clock.js';
import type { CommandResult } from './types.js';
import { accepted, refused } from './types.js';

export const LOOP_HOLD_OFF_MS = 1000;

export class SafetyLoop {
  readonly pin: InputPin | undefined;
  private clearedAt = Number.NEGATIVE_INFINITY;
  private readonly watchers = new Set<(present: boolean) => void>();

  /**
   * A vehicle must be seen at once, so the loop is not debounced unless the config says so:
   * flicker towards "present" only ever stops a movement, and the hold-off covers flicker back.
   */
  constructor(
    ref: PinRef | undefined,
    input: (ref: PinRef) => InputPin,
    private readonly clock: Clock,
  ) {
    this.pin = ref ? input({ ...ref, debounceMs: ref.debounceMs ?? 0 }) : undefined;
  }

  get vehiclePresent(): boolean {
    return this.pin?.active ?? false;
  }

  start(onChange: (present: boolean) => void): () => void {
    if (!this.pin) return () => undefined;
    this.pin.start();
    // After a restart the loop's history is unknown: treat it as having just cleared.
    if (!this.pin.active) this.clearedAt = this.clock.now();
    return this.pin.onChange((present) => {
      if (!present) this.clearedAt = this.clock.now();
      onChange(present);
      for (const watcher of this.watchers) watcher(present);
    });
  }

  /** Others who want to know about vehicles on the loop (a camera's capture trigger). */
  watch(listener: (present: boolean) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  stop(): void {
    this.pin?.stop();
  }

  /** Why moving down onto the lane is unsafe now, or undefined when it is safe. */
  blockReason(): string | undefined {
    if (this.vehiclePresent) return 'vehicle on the safety loop';
    const since = this.clock.now() - this.clearedAt;
    if (since < LOOP_HOLD_OFF_MS) return `safety loop cleared ${since} ms ago (hold-off ${LOOP_HOLD_OFF_MS} ms)`;
    return undefined;
  }

  /** ms until the hold-off ends (0 when it has). */
  holdOffRemaining(): number {
    return Math.max(0, this.clearedAt + LOOP_HOLD_OFF_MS - this.clock.now());
  }
}

/**
 * The one rule for moving a lane down onto the road (closing an arm, raising a bollard): never
 * during a fire alarm, never onto a vehicle, nor within the hold-off after the loop clears.
 * The lane's own commands ask it, and so does anything that drives a lane's output by hand.
 */
export function mayMoveDown(lane: string, loop: SafetyLoop, fireAlarmActive: boolean): CommandResult {
  if (fireAlarmActive) return refused('fire-alarm', 'lanes stay open while the fire alarm is active');
  const reason = loop.blockReason();
  return reason ? refused('unsafe', `${lane}: ${reason}`) : accepted;
}
