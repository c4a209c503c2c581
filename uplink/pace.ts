/**
 * The backlog gives way to a busy lane (docs/benchmarks.md, "A lane under the whole load"): for
 * LIVE_QUIET_MS after a device push (`active`), backlog events are let out at most BUSY_RATE a
 * second, in slices of BUSY_SLICE_MS, and read from the journal in small pages; otherwise freely.
 * Live events never ask.
 */
import type { Clock, TimerHandle } from '../core/clock.js';

/** While devices push, and for this long after, the backlog gives way. */
export const LIVE_QUIET_MS = 2000;
/** The backlog's pace while it gives way: events a second, in slices of BUSY_SLICE_MS; its journal pages. */
export const BUSY_RATE = 500;
const BUSY_SLICE_MS = 100;
const BUSY_PAGE = 200;

export class BacklogPace {
  private activeAt = Number.NEGATIVE_INFINITY;
  private slice = { at: Number.NEGATIVE_INFINITY, left: 0 };
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** called when a slice opens after the backlog had to wait */
    private readonly resume: () => void,
  ) {}

  /** A device pushed (a car at a lane, a card at a reader). */
  active(): void {
    this.activeAt = this.clock.now();
  }

  /** Whether a device pushed within LIVE_QUIET_MS. */
  get busy(): boolean {
    return this.clock.now() - this.activeAt < LIVE_QUIET_MS;
  }

  /** Journal rows to read for the backlog at a time: `page`, or fewer while busy. */
  page(page: number): number {
    return this.busy ? Math.min(page, BUSY_PAGE) : page;
  }

  /** Whether one more backlog event may go now; when not, `resume` is called at the next slice. */
  allow(): boolean {
    if (!this.busy) return true;
    const now = this.clock.now();
    if (now - this.slice.at >= BUSY_SLICE_MS) this.slice = { at: now, left: (BUSY_RATE * BUSY_SLICE_MS) / 1000 };
    if (this.slice.left > 0) {
      this.slice.left--;
      return true;
    }
    this.timer ??= this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.resume();
      },
      this.slice.at + BUSY_SLICE_MS - now,
    );
    return false;
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
