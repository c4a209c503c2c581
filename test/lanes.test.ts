import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';

const OPEN = 10,
  CLOSE = 11,
  LOOP = 12;
const LOWER = 30,
  RAISE = 31,
  BLOOP = 32,
  DOWN = 33,
  UP = 34;
const FIRE = 20,
  FENCE = 40;

const barrier = (extra: Record<string, unknown> = {}) => ({
  id: 'gate',
  type: 'barrier',
  open: { io: 'sim', pin: OPEN },
  close: { io: 'sim', pin: CLOSE },
  safetyLoop: { io: 'sim', pin: LOOP },
  pulseMs: 500,
  travelMs: 4000,
  ...extra,
});
const bollard = (extra: Record<string, unknown> = {}) => ({
  id: 'post',
  type: 'bollard',
  lower: { io: 'sim', pin: LOWER },
  raise: { io: 'sim', pin: RAISE },
  safetyLoop: { io: 'sim', pin: BLOOP },
  downLimit: { io: 'sim', pin: DOWN },
  upLimit: { io: 'sim', pin: UP },
  travelMs: 6000,
  pulseMs: 500,
  ...extra,
});
const site = (...devices: unknown[]) => ({ devices, fireAlarm: { input: { io: 'sim', pin: FIRE } } });

let h: Harness;
beforeEach(() => void vi.useFakeTimers({ now: 0 }));
afterEach(async () => {
  await h?.gateway.stop();
  vi.useRealTimers();
});
const t = (ms: number) => vi.advanceTimersByTime(ms);
const cmd = (id: string, action: 'open' | 'close') => h.gateway.devices.get(id)!.command(action, { by: 'console', user: 'guard1' });
const after = (from = 1) => h.timeline().slice(from);

describe('a barrier', () => {
  it('pulses OPEN for pulseMs on an open command', async () => {
    h = await startGateway(site(barrier({ autoClose: false })));
    t(2000);
    expect(cmd('gate', 'open')).toEqual({ ok: true });
    t(1000);
    expect(h.board.historyOf(OPEN)).toEqual([
      [0, 0],
      [2000, 1],
      [2500, 0],
    ]);
    expect(h.board.historyOf(CLOSE)).toEqual([[0, 0]]);
    expect(after()).toEqual([[2000, 'barrier.opened', 'gate', { by: 'console', user: 'guard1' }]]);
  });

  it('refuses to close while a vehicle is on the loop and for 1 s after it clears', async () => {
    h = await startGateway(site(barrier({ autoClose: false })));
    t(2000);
    h.board.setInput(LOOP, 1);
    expect(cmd('gate', 'close')).toMatchObject({ ok: false, error: 'unsafe' });
    t(500);
    h.board.setInput(LOOP, 0); // t = 2500
    t(999);
    expect(cmd('gate', 'close')).toMatchObject({ ok: false, error: 'unsafe' });
    t(1); // t = 3500: 1 s since the loop cleared
    expect(cmd('gate', 'close')).toEqual({ ok: true });
    t(5000);
    expect(h.board.historyOf(CLOSE)).toEqual([
      [0, 0],
      [3500, 1],
      [4000, 0],
    ]);
    expect(after().map(([time, type, , data]) => [time, type, (data as { reason?: string }).reason ?? (data as { by: string }).by])).toEqual([
      [2000, 'barrier.blocked', 'vehicle on the safety loop'],
      [3499, 'barrier.blocked', 'safety loop cleared 999 ms ago (hold-off 1000 ms)'],
      [7500, 'barrier.closed', 'console'],
    ]);
  });

  it('a vehicle arriving while the arm comes down cuts the close and reopens it at once', async () => {
    h = await startGateway(site(barrier({ autoClose: false })));
    t(2000);
    cmd('gate', 'close'); // close pulse 2000..2500, arm travelling until 6000
    t(200);
    h.board.setInput(LOOP, 1); // t = 2200
    t(10_000);
    expect(h.board.historyOf(CLOSE)).toEqual([
      [0, 0],
      [2000, 1],
      [2200, 0],
    ]);
    expect(h.board.historyOf(OPEN)).toEqual([
      [0, 0],
      [2200, 1],
      [2700, 0],
    ]);
    expect(after().map(([time, type]) => [time, type])).toEqual([
      [2200, 'barrier.blocked'],
      [2200, 'barrier.opened'],
    ]);
    expect(h.gateway.devices.get('gate')!.snapshot()).toMatchObject({ state: 'open', vehicle: true });
  });

  it('closes by itself 1 s after a vehicle has passed', async () => {
    h = await startGateway(site(barrier()));
    t(1000);
    cmd('gate', 'open');
    t(2000);
    h.board.setInput(LOOP, 1); // t = 3000: the car is under the arm
    t(1500);
    h.board.setInput(LOOP, 0); // t = 4500: it has passed
    t(10_000);
    expect(h.board.historyOf(CLOSE)).toEqual([
      [0, 0],
      [5500, 1],
      [6000, 0],
    ]);
    expect(after().map(([time, type, , data]) => [time, type, (data as { by: string }).by])).toEqual([
      [1000, 'barrier.opened', 'console'],
      [9500, 'barrier.closed', 'auto-close'],
    ]);
  });

  it('without a close output, refuses close as not supported', async () => {
    h = await startGateway(site(barrier({ close: undefined })));
    expect(cmd('gate', 'close')).toMatchObject({ ok: false, error: 'not-supported' });
  });

  it('that closes by itself (no CLOSE output) shows what the gateway last did, and after a fire alarm is back to not known', async () => {
    h = await startGateway(site(barrier({ close: undefined })));
    const snap = () => h.gateway.devices.get('gate')!.snapshot() as unknown as { state: string; lastAction: { action: string; at: string; by: string } | null };
    expect(snap()).toMatchObject({ state: 'unknown', lastAction: null });
    t(1000);
    expect(cmd('gate', 'open')).toEqual({ ok: true });
    expect(snap()).toMatchObject({ state: 'open', lastAction: { action: 'open', at: new Date(1000).toISOString(), by: 'console' } });
    h.board.setInput(FIRE, 1);
    t(1000);
    h.board.setInput(FIRE, 0);
    t(1000);
    // the arm is no longer held and closes by itself, where the gateway cannot see it
    expect(h.board.read(OPEN)).toBe(0);
    expect(snap()).toMatchObject({ state: 'unknown', lastAction: { action: 'open', by: 'fire-alarm' } });
  });

  it('opens and holds OPEN through a fire alarm, refuses to close, and closes when it clears and the lane is clear', async () => {
    h = await startGateway(site(barrier()));
    t(1000);
    h.board.setInput(FIRE, 1); // settles at 1030
    t(100);
    expect(h.board.read(OPEN)).toBe(1);
    expect(cmd('gate', 'close')).toMatchObject({ ok: false, error: 'fire-alarm' });
    t(60_000);
    expect(h.board.read(OPEN)).toBe(1); // held, not pulsed
    h.board.setInput(FIRE, 0); // t = 61100, settles 61130
    t(10_000);
    expect(h.board.historyOf(OPEN)).toEqual([
      [0, 0],
      [1030, 1],
      [61_130, 0],
    ]);
    expect(h.board.historyOf(CLOSE)).toEqual([
      [0, 0],
      [62_130, 1],
      [62_630, 0],
    ]);
  });
});

describe('a bollard', () => {
  it('starts as found: down on its limit switch, and does not move', async () => {
    const { SimBoard } = await import('../drivers/io/sim.js');
    const board = new SimBoard('sim');
    await board.open([{ pin: DOWN, direction: 'in' }]);
    board.setInput(DOWN, 1);
    h = await startGateway(site(bollard()), board);
    t(60_000);
    expect(h.board.historyOf(RAISE)).toEqual([[0, 0]]);
    expect(h.board.historyOf(LOWER)).toEqual([[0, 0]]);
    expect(h.gateway.devices.get('post')!.snapshot()).toMatchObject({ state: 'down' });
  });

  it('raises on command when the loop has been clear for 1 s and reports up on its limit', async () => {
    h = await startGateway(site(bollard()));
    t(2000);
    expect(cmd('post', 'close')).toEqual({ ok: true });
    t(3000);
    h.board.setInput(UP, 1); // t = 5000, settles 5030
    t(100);
    expect(h.board.historyOf(RAISE)).toEqual([
      [0, 0],
      [2000, 1],
      [2500, 0],
    ]);
    expect(after()).toEqual([[5030, 'bollard.raised', 'post', { by: 'console', user: 'guard1' }]]);
  });

  it('refuses to raise on a vehicle', async () => {
    h = await startGateway(site(bollard()));
    t(2000);
    h.board.setInput(BLOOP, 1);
    expect(cmd('post', 'close')).toMatchObject({ ok: false, error: 'unsafe' });
    expect(h.board.historyOf(RAISE)).toEqual([[0, 0]]);
    expect(after()).toEqual([[2000, 'bollard.blocked', 'post', { reason: 'vehicle on the safety loop', by: 'console', user: 'guard1' }]]);
  });

  it('a vehicle on the loop while rising reverses it to down', async () => {
    h = await startGateway(site(bollard()));
    t(2000);
    cmd('post', 'close');
    t(300);
    h.board.setInput(BLOOP, 1); // t = 2300
    t(1000);
    h.board.setInput(DOWN, 1); // t = 3300, settles 3330
    t(100);
    expect(h.board.historyOf(RAISE)).toEqual([
      [0, 0],
      [2000, 1],
      [2300, 0],
    ]);
    expect(h.board.historyOf(LOWER)).toEqual([
      [0, 0],
      [2300, 1],
      [2800, 0],
    ]);
    expect(after().map(([time, type, , data]) => [time, type, data])).toEqual([
      [2300, 'bollard.blocked', { reason: 'vehicle on the safety loop while raising' }],
      [3330, 'bollard.lowered', { by: 'safety-loop' }],
    ]);
  });

  it('a move that does not reach its limit in travelMs is a fault, not a success', async () => {
    h = await startGateway(site(bollard()));
    t(2000);
    cmd('post', 'close');
    t(6000);
    expect(after()).toEqual([
      [8000, 'bollard.fault', 'post', { reason: 'up limit not reached in 6000 ms', travelMs: 6000 }],
      [8000, 'device.fault', 'post', { code: 'TRAVEL_TIMEOUT', message: 'up limit not reached in 6000 ms' }],
    ]);
    expect(h.gateway.health().devices).toEqual({ ok: 0, fault: 1 });
    cmd('post', 'open');
    h.board.setInput(DOWN, 1);
    t(100);
    expect(after(3).map(([, type]) => type)).toEqual(['device.recovered', 'bollard.lowered']);
    expect(h.gateway.health().devices).toEqual({ ok: 1, fault: 0 });
  });

  it('without limit switches, the travel time ends the move', async () => {
    h = await startGateway(site(bollard({ downLimit: undefined, upLimit: undefined })));
    t(2000);
    cmd('post', 'close');
    t(6000);
    expect(after()).toEqual([[8000, 'bollard.raised', 'post', { by: 'console', user: 'guard1' }]]);
  });

  it('goes down on the fire alarm, refuses to rise while it lasts, and stays down after it clears', async () => {
    h = await startGateway(site(bollard()));
    t(1000);
    h.board.setInput(FIRE, 1);
    t(100);
    expect(h.board.historyOf(LOWER)).toEqual([
      [0, 0],
      [1030, 1],
    ]);
    expect(cmd('post', 'close')).toMatchObject({ ok: false, error: 'fire-alarm' });
    h.board.setInput(DOWN, 1);
    t(1000);
    h.board.setInput(FIRE, 0);
    t(60_000);
    expect(h.board.historyOf(RAISE)).toEqual([[0, 0]]);
    expect(h.gateway.devices.get('post')!.snapshot()).toMatchObject({ state: 'down' });
  });
});

describe('an alarm input', () => {
  const fence = { id: 'fence-1', type: 'alarm-input', kind: 'perimeter', input: { io: 'sim', pin: FENCE }, clearAfterMs: 10_000 };

  it('reports a flapping input once per episode, counting the changes', async () => {
    h = await startGateway(site(fence));
    t(1000);
    for (let i = 0; i < 1000; i++) {
      h.board.setInput(FENCE, 1);
      t(100);
      h.board.setInput(FENCE, 0);
      t(100);
    } // the last change settles at 1000 + 200 * 1000 - 100 + 30 = 200930
    t(20_000);
    expect(after()).toEqual([
      [1030, 'alarm.raised', 'fence-1', { kind: 'perimeter' }],
      [210_930, 'alarm.cleared', 'fence-1', { kind: 'perimeter', durationMs: 199_900, changes: 2000 }],
    ]);
  });

  it('ignores glitches shorter than the debounce time', async () => {
    h = await startGateway(site(fence));
    h.board.setInput(FENCE, 1);
    t(10);
    h.board.setInput(FENCE, 0);
    t(60_000);
    expect(after()).toEqual([]);
  });
});
