/**
 * Checks the safety rules (docs/safety.md) from the outside: it reads only the sim board's history of input
 * and output levels, plus what the test itself did (commands sent, restarts), never a device's
 * internal state. Fed incrementally, so a broken rule is caught at the step that broke it.
 */
import type { PinChange } from '../drivers/io/sim.js';

export interface LanePins {
  barrier: { open: number; close: number; loop: number; travelMs: number };
  bollard: { lower: number; raise: number; loop: number; up: number; travelMs: number };
  door: { lock: number; unlockedLevel: 0 | 1 };
  fire: number;
}

const HOLD_OFF_MS = 1000;
const FIRE_REACTION_MS = 100;
/** The gateway's documented input debounce: a fire input that drops for less is still one alarm. */
const DEBOUNCE_MS = 30;

export class SafetyChecker {
  readonly violations: string[] = [];
  private readonly level = new Map<number, 0 | 1>();
  private readonly clearedAt = new Map<number, number>();
  private fireSince: number | undefined;
  private fireFell: { at: number; since: number } | undefined;
  private fireChecked = false;
  private fireLowered = false;
  private fireLoweredReported = false;
  private closeStart: number | undefined;
  private raiseStart: number | undefined;
  private restartIndex = Number.POSITIVE_INFINITY;
  private readonly firstWriteAfterRestart = new Set<number>();
  private readonly raiseCommands = new Set<number>();
  private seen = 0;
  private lastGroupTime = Number.NEGATIVE_INFINITY;

  constructor(private readonly pins: LanePins) {}

  /** The test sent a raise (bollard close) command at `time`. */
  raiseCommanded(time: number): void {
    this.raiseCommands.add(time);
  }

  /** The test restarts the gateway now; history entries from `index` on are the new process's. */
  restarted(index: number): void {
    this.restartIndex = index;
    this.firstWriteAfterRestart.clear();
    this.closeStart = this.raiseStart = undefined;
  }

  /** Reads the history from where it stopped last time, up to the current time `now`. */
  advance(history: readonly PinChange[], now: number): void {
    while (this.seen < history.length) {
      const time = history[this.seen]!.time;
      const group: Array<PinChange & { index: number }> = [];
      while (this.seen < history.length && history[this.seen]!.time === time) {
        group.push({ ...history[this.seen]!, index: this.seen });
        this.seen++;
      }
      this.checkFireAt(time, true);
      this.apply(group, time);
    }
    this.checkFireAt(now, false);
  }

  private lv(pin: number): 0 | 1 {
    return this.level.get(pin) ?? 0;
  }

  private fail(time: number, rule: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${time}: ${rule}`);
  }

  /** Fire rules hold from FIRE_REACTION_MS after the alarm went active, for as long as it stays. */
  private checkFireAt(time: number, beforeGroup: boolean): void {
    if (this.fireSince === undefined || time < this.fireSince + FIRE_REACTION_MS) return;
    if (beforeGroup && time === this.fireSince + FIRE_REACTION_MS) return; // checked after the group
    if (this.fireChecked && beforeGroup) return;
    this.fireChecked = true;
    const { barrier, bollard, door } = this.pins;
    // Outputs only change at history entries: the state checked has held since the last one.
    const at = Math.max(this.lastGroupTime, this.fireSince + FIRE_REACTION_MS);
    if (this.lv(barrier.open) !== 1) this.fail(at, 'fire alarm: barrier OPEN not held');
    if (this.lv(barrier.close) !== 0) this.fail(at, 'fire alarm: barrier CLOSE active');
    if (this.lv(bollard.raise) !== 0) this.fail(at, 'fire alarm: bollard RAISE active');
    if (!this.fireLowered && !this.fireLoweredReported) {
      this.fireLoweredReported = true;
      this.fail(at, 'fire alarm: bollard LOWER not pulsed within 100 ms');
    }
    if (this.lv(door.lock) !== door.unlockedLevel) this.fail(at, 'fire alarm: door not unlocked');
  }

  private apply(group: Array<PinChange & { index: number }>, time: number): void {
    const { barrier, bollard, fire } = this.pins;
    let barrierLoopRose = false;
    let bollardLoopRose = false;
    let openActivated = false;
    let lowerActivated = false;
    let lowerWritten = false;
    let raiseActivated = false;
    for (const c of group) {
      // A new process reads the fire input as it is when it starts: a glitch low at that moment ends the alarm for it.
      if (c.index === this.restartIndex && this.fireSince === undefined) this.fireFell = undefined;
      const before = this.lv(c.pin);
      this.level.set(c.pin, c.value);
      if (c.direction === 'out' && c.index >= this.restartIndex && !this.firstWriteAfterRestart.has(c.pin)) {
        this.firstWriteAfterRestart.add(c.pin);
        this.checkSafeStart(c, time);
      }
      const rose = before === 0 && c.value === 1;
      const fell = before === 1 && c.value === 0;
      if (c.pin === barrier.loop && fell) this.clearedAt.set(barrier.loop, time);
      if (c.pin === bollard.loop && fell) this.clearedAt.set(bollard.loop, time);
      if (c.pin === barrier.loop && rose) barrierLoopRose = true;
      if (c.pin === bollard.loop && rose) bollardLoopRose = true;
      if (c.pin === fire && rose) {
        if (this.fireFell && time - this.fireFell.at < DEBOUNCE_MS) {
          this.fireSince = this.fireFell.since; // a glitch, not a new alarm
        } else {
          this.fireSince = time;
          this.fireChecked = false;
          this.fireLowered = this.lv(bollard.lower) === 1;
          this.fireLoweredReported = false;
        }
      }
      if (c.pin === fire && fell) {
        this.fireFell = this.fireSince === undefined ? undefined : { at: time, since: this.fireSince };
        this.fireSince = undefined;
      }
      if (c.pin === barrier.open && rose) openActivated = true;
      if (c.pin === bollard.lower && rose) lowerActivated = true;
      if (c.pin === bollard.lower && c.value === 1) lowerWritten = true;
      if (c.pin === bollard.raise && rose) raiseActivated = true;
      // A close or raise that begins while the loop is already occupied in this same instant is caught below.
      if (c.pin === barrier.close && rose) this.closeStart = time;
      if (c.pin === bollard.raise && rose) this.raiseStart = time;
      if (c.pin === barrier.open && rose) this.closeStart = undefined;
      if (c.pin === bollard.lower && rose) this.raiseStart = undefined;
      if (c.pin === bollard.up && rose) this.raiseStart = undefined;
    }
    if (lowerWritten && this.fireSince !== undefined && time <= this.fireSince + FIRE_REACTION_MS) this.fireLowered = true;

    // Never close or raise onto a vehicle, nor within 1 s of the loop clearing.
    for (const [out, loop, what] of [
      [barrier.close, barrier.loop, 'barrier CLOSE'],
      [bollard.raise, bollard.loop, 'bollard RAISE'],
    ] as const) {
      if (this.lv(out) !== 1) continue;
      if (this.lv(loop) === 1) this.fail(time, `${what} active while the loop reports a vehicle`);
      const cleared = this.clearedAt.get(loop);
      if (cleared !== undefined && time - cleared < HOLD_OFF_MS && raiseOrCloseStartedAt(out === barrier.close ? this.closeStart : this.raiseStart, cleared)) {
        this.fail(time, `${what} active ${time - cleared} ms after the loop cleared`);
      }
    }
    if (this.lv(barrier.open) === 1 && this.lv(barrier.close) === 1) this.fail(time, 'barrier OPEN and CLOSE active together');
    if (this.lv(bollard.lower) === 1 && this.lv(bollard.raise) === 1) this.fail(time, 'bollard LOWER and RAISE active together');

    // A closing arm or rising bollard that sees the loop reverses, in the same instant.
    if (barrierLoopRose && this.closeStart !== undefined && time < this.closeStart + barrier.travelMs) {
      if (!openActivated) this.fail(time, 'barrier closing onto a vehicle was not reopened');
      this.closeStart = undefined;
    }
    if (bollardLoopRose && this.raiseStart !== undefined && time < this.raiseStart + bollard.travelMs) {
      if (!lowerActivated) this.fail(time, 'bollard rising under a vehicle was not reversed');
      this.raiseStart = undefined;
    }
    // A bollard rises only when told to, never by itself (after a restart, or ever).
    if (raiseActivated && !this.raiseCommands.has(time)) this.fail(time, 'bollard raised without a command');

    this.lastGroupTime = time;
    if (this.fireSince !== undefined && time >= this.fireSince + FIRE_REACTION_MS) {
      this.fireChecked = false;
      this.checkFireAt(time, false);
    }
  }

  /** On start, before anything else, every output goes to its safe level. */
  private checkSafeStart(c: PinChange, time: number): void {
    const { barrier, bollard, door } = this.pins;
    const fire = this.fireSince !== undefined;
    const safe: Record<number, 0 | 1> = {
      [barrier.open]: fire ? 1 : 0,
      [barrier.close]: 0,
      [bollard.raise]: 0,
      [bollard.lower]: 0,
      [door.lock]: fire ? door.unlockedLevel : ((1 - door.unlockedLevel) as 0 | 1),
    };
    const want = safe[c.pin];
    if (want !== undefined && c.value !== want) this.fail(time, `after restart pin ${c.pin} was first set to ${c.value}, not its safe level ${want}`);
  }
}

/** Whether the close/raise began within the hold-off after the loop cleared (and not before it). */
function raiseOrCloseStartedAt(start: number | undefined, cleared: number): boolean {
  return start !== undefined && start >= cleared;
}
