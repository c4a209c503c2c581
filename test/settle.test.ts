/**
 * Memory that settles (core/settle.ts): after a burst of work, once the thread has been quiet
 * long enough, one full collection, and none while work goes on or when nothing happened.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { settleWhenQuiet } from '../core/settle.js';

describe('settling after a burst', () => {
  it('collects once, 10 s after the last work, never during it, and not again until more work', () => {
    const clock = new ManualClock(0);
    let collections = 0;
    const settler = settleWhenQuiet(clock, () => void collections++, 10_000);
    clock.advance(60_000);
    expect(collections).toBe(0); // nothing happened: nothing to give back
    for (let i = 0; i < 30; i++) {
      settler.busy();
      clock.advance(1000); // a burst of 30 s, work every second
    }
    expect(collections).toBe(0);
    clock.advance(9000);
    expect(collections).toBe(0); // quiet for 9 s only
    clock.advance(6000);
    expect(collections).toBe(1);
    clock.advance(120_000);
    expect(collections).toBe(1);
    settler.busy();
    clock.advance(20_000);
    expect(collections).toBe(2);
    settler.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('does nothing where node gives no gc', () => {
    const clock = new ManualClock(0);
    const settler = settleWhenQuiet(clock, undefined);
    settler.busy();
    expect(clock.pending()).toEqual([]);
  });
});
