/**
 * Memory that settles after a burst (#27, docs/benchmarks.md): V8 grows its heap for a burst of
 * work (thousands of camera pushes, an export of the journal) and gives the pages back only
 * slowly, so a gateway that was busy an hour ago stays at its high-water mark. Once a thread has
 * been quiet for `quietMs` after activity, one full collection (global gc, there when node runs
 * with --expose-gc as the launcher starts it) compacts the heap and returns what it can. Never
 * during traffic; at most once per quiet spell.
 */
import type { Clock } from './clock.js';
import { every } from './clock.js';

export const QUIET_MS = 10_000;

export interface Settler {
  /** something happened (a push, a command, a batch written) */
  busy(): void;
  stop(): void;
}

export function settleWhenQuiet(clock: Clock, gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc, quietMs = QUIET_MS): Settler {
  let lastBusy = Number.NEGATIVE_INFINITY;
  let dirty = false;
  const stop = gc
    ? every(clock, quietMs / 2, () => {
        if (!dirty || clock.now() - lastBusy < quietMs) return;
        dirty = false;
        gc();
      })
    : () => {};
  return {
    busy: () => {
      lastBusy = clock.now();
      dirty = true;
    },
    stop,
  };
}
