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
