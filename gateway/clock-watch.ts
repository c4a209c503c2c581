/**
 * The gateway's notion of time: whether the wall clock is synchronised (core/clock-sync.ts, asked
 * every minute without blocking) and whether it jumped. Everything that depends on the real time
 * asks the gateway's clock (`Clock.synced`): event envelopes flag events made before the first
 * sync (`clockSynced: false`), and fees are not charged on an unsynchronised clock.
 *
 * The monotonic clock never jumps, so the distance between wall and monotonic time is constant
 * while nobody sets the clock. When it changes by more than JUMP_MS, that is a `clock.jumped`
 * event; when the clock becomes synchronised, the change since it was found unsynchronised is the
 * correction for the events made meanwhile (`clock.synced`, `correctionMs`).
 */
import { every, systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import type { ClockSyncReading } from '../core/clock-sync.js';
import { readClockSyncAsync } from '../core/clock-sync.js';
import type { EventData } from '../core/events.js';
import type { Logger } from '../core/log.js';

export const POLL_MS = 60_000;
export const JUMP_CHECK_MS = 5_000;
/** A step of the wall clock against the monotonic one larger than this is a jump (NTP slews smaller ones). */
export const JUMP_MS = 1_000;

export interface ClockWatchOptions {
  read?: () => Promise<ClockSyncReading>;
  /** wall and monotonic time (tests give their own) */
  wall?: () => number;
  mono?: () => number;
  log: Logger;
  emit<T extends 'clock.unsynced' | 'clock.synced' | 'clock.jumped'>(type: T, data: EventData[T]): void;
  pollMs?: number;
  jumpCheckMs?: number;
  /** schedules its checks (the gateway's clock; default the system's) */
  clock?: Clock;
}

export class ClockWatch {
  /** unknown counts as synchronised: a gateway that cannot tell must not stop charging */
  private state: ClockSyncReading = { state: 'unknown', source: 'not read yet' };
  private offset: number;
  private unsynced: { offset: number; since: number } | undefined;
  private stops: Array<() => void> = [];
  private readonly wall: () => number;
  private readonly mono: () => number;

  constructor(private readonly o: ClockWatchOptions) {
    this.wall = o.wall ?? Date.now;
    this.mono = o.mono ?? (() => performance.now());
    this.offset = this.wall() - this.mono();
  }

  get synced(): boolean {
    return this.state.state !== 'unsynced';
  }

  /** Reads the state once before the gateway makes its first events, then keeps watching. */
  async start(): Promise<void> {
    await this.poll();
    const clock = this.o.clock ?? systemClock;
    this.stops.push(
      every(clock, this.o.pollMs ?? POLL_MS, () => void this.poll()),
      every(clock, this.o.jumpCheckMs ?? JUMP_CHECK_MS, () => this.checkJump()),
    );
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Asks the system again now (tests; a jump also triggers it). */
  async poll(): Promise<void> {
    const reading = await (this.o.read ?? readClockSyncAsync)();
    const was = this.state.state;
    this.state = reading;
    this.checkJump();
    if (reading.state === 'unsynced' && was !== 'unsynced') {
      this.unsynced = { offset: this.wall() - this.mono(), since: this.wall() };
      this.o.log.warn({ source: reading.source }, 'the clock is not synchronised: event times are flagged and no fee is charged until it is');
      this.o.emit('clock.unsynced', { source: reading.source });
    } else if (reading.state !== 'unsynced' && was === 'unsynced') {
      const correctionMs = this.unsynced ? Math.round(this.wall() - this.mono() - this.unsynced.offset) : 0;
      this.o.log.info({ source: reading.source, correctionMs }, 'the clock is synchronised');
      this.o.emit('clock.synced', { source: reading.source, correctionMs, unsyncedSince: new Date(this.unsynced?.since ?? this.wall()).toISOString() });
      this.unsynced = undefined;
    }
  }

  private checkJump(): void {
    const offset = this.wall() - this.mono();
    const jump = offset - this.offset;
    if (Math.abs(jump) > JUMP_MS) {
      const to = this.wall();
      this.o.emit('clock.jumped', { jumpMs: Math.round(jump), from: new Date(to - jump).toISOString(), to: new Date(to).toISOString() });
    }
    this.offset = offset;
  }
}

/**
 * The gateway's clock: `base` (the system's, or a test's), and whether it can be trusted as the
 * real time, from a ClockWatch (none when `sync` is false: then it is trusted).
 */
export function watchedClock(
  base: Clock,
  sync: false | { read(): Promise<ClockSyncReading> } | undefined,
  log: Logger,
  emit: ClockWatchOptions['emit'],
): { clock: Clock; watch: ClockWatch | undefined } {
  if (sync === false) return { clock: base, watch: undefined };
  const watch = new ClockWatch({ ...(sync ? { read: () => sync.read() } : {}), clock: base, log: log.child({ component: 'clock' }), emit });
  return {
    clock: { now: () => base.now(), setTimeout: (fn, ms) => base.setTimeout(fn, ms), clearTimeout: (h) => base.clearTimeout(h), synced: () => watch.synced },
    watch,
  };
}
