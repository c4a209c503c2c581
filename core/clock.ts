/**
 * Time as the gateway sees it. Behaviour that depends on time takes a Clock, so tests drive it
 * with fake timers instead of sleeping.
 */
export type TimerHandle = { readonly __timer: unique symbol } | ReturnType<typeof setTimeout>;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /**
   * Whether `now()` can be trusted as the real time (NTP has synchronised the clock since boot).
   * Absent: assumed so. Event times are flagged, and fees are not charged, while it is false.
   */
  synced?(): boolean;
}

/** The one reading of `synced` every user makes: a clock that does not say is trusted. */
export const clockTrusted = (clock: Clock): boolean => clock.synced?.() ?? true;

/** The real clock. Reads the globals at call time so vitest's fake timers apply to it too. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** `p`, or a rejection naming `what` when it takes longer than `ms` on `clock` (the doctor's per-check limit). */
export function withTimeout<T>(clock: Clock, what: string, ms: number, p: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = clock.setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clock.clearTimeout(t), resolve(v)),
      (e: unknown) => (clock.clearTimeout(t), reject(e)),
    );
  });
}

/** Runs `fn` every `ms` on `clock` (each run scheduled after the last); returns what stops it. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = clock.setTimeout(() => {
      tick();
      fn();
    }, ms);
  };
  tick();
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

/**
 * A clock that moves only when told (`advance`): timing tests drive it instead of sleeping, and
 * see exactly which waits the code asked for (`pending`).
 */
export class ManualClock implements Clock {
  private readonly timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const i = this.timers.indexOf(handle as unknown as (typeof this.timers)[number]);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** The waits asked for and not yet over, in ms from now, soonest first. */
  pending(): number[] {
    return this.timers.map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, running every timer that falls due, in order (timers they set included). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}
