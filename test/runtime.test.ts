import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputPin, OutputPin } from '../drivers/io/pin.js';
import { SimBoard } from '../drivers/io/sim.js';
import { EventBus } from '../core/event-bus.js';
import { systemClock } from '../core/clock.js';
import { GatewayError, isGatewayError, isRetryable } from '../core/errors.js';
import { ulidFactory, ulidTime } from '../core/ulid.js';
import { capturingLog } from './helpers.js';

afterEach(() => vi.useRealTimers());

describe('the event bus', () => {
  it('a listener that throws is logged with its owner and the others still run', async () => {
    const { log, lines } = capturingLog();
    const bus = new EventBus<{ ping: number }>(log);
    const got: number[] = [];
    bus.on('ping', 'first', (n) => void got.push(n));
    bus.on('ping', 'broken-extension', () => {
      throw new Error('boom');
    });
    bus.on('ping', 'async-broken', async () => {
      throw new Error('late boom');
    });
    bus.on('ping', 'last', (n) => void got.push(n * 10));
    expect(() => bus.emit('ping', 4)).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([4, 40]);
    const errors = lines().filter((l) => l.msg === 'bus listener failed');
    expect(errors.map((e) => [e.owner, (e.err as { message: string }).message])).toEqual([
      ['broken-extension', 'boom'],
      ['async-broken', 'late boom'],
    ]);
  });

  it('unsubscribing stops delivery', () => {
    const { log } = capturingLog();
    const bus = new EventBus<{ ping: number }>(log);
    const got: number[] = [];
    const off = bus.on('ping', 't', (n) => void got.push(n));
    bus.emit('ping', 1);
    off();
    bus.emit('ping', 2);
    expect(got).toEqual([1]);
    expect(bus.listenerCount('ping')).toBe(0);
  });
});

describe('the sim board', () => {
  it('keeps a timestamped history of every output write and input change', async () => {
    vi.useFakeTimers({ now: 1000 });
    const board = new SimBoard('sim', { clock: systemClock });
    await board.open([
      { pin: 1, direction: 'out' },
      { pin: 2, direction: 'in' },
    ]);
    await board.write(1, 1);
    vi.advanceTimersByTime(250);
    board.setInput(2, 1);
    await board.write(1, 0);
    expect(board.history).toEqual([
      { time: 1000, pin: 1, direction: 'out', value: 1 },
      { time: 1250, pin: 2, direction: 'in', value: 1 },
      { time: 1250, pin: 1, direction: 'out', value: 0 },
    ]);
  });

  it('refuses writes to inputs, inputs set on outputs and pins no device uses', async () => {
    const board = new SimBoard('sim');
    await board.open([
      { pin: 1, direction: 'out' },
      { pin: 2, direction: 'in' },
    ]);
    expect(() => board.write(2, 1)).toThrow(expect.objectContaining({ code: 'PIN_DIRECTION' }));
    expect(() => board.setInput(1, 1)).toThrow(expect.objectContaining({ code: 'PIN_DIRECTION' }));
    expect(() => board.read(9)).toThrow(expect.objectContaining({ code: 'PIN_UNKNOWN' }));
  });

  it('boards are independent instances', async () => {
    const a = new SimBoard('a');
    const b = new SimBoard('b');
    await a.open([{ pin: 1, direction: 'in' }]);
    await b.open([{ pin: 1, direction: 'in' }]);
    a.setInput(1, 1);
    expect([a.read(1), b.read(1)]).toEqual([1, 0]);
  });

  it('plays its script on its clock, with notes, and repeats it', async () => {
    vi.useFakeTimers({ now: 0 });
    const board = new SimBoard('sim', {
      clock: systemClock,
      script: {
        steps: [
          { at: 100, pin: 3, value: 1, note: 'press' },
          { at: 300, pin: 3, value: 0 },
        ],
        repeatMs: 1000,
      },
    });
    const notes: string[] = [];
    board.onNote((n) => notes.push(n));
    await board.open([{ pin: 3, direction: 'in' }]);
    vi.advanceTimersByTime(1500);
    await board.close();
    vi.advanceTimersByTime(5000);
    expect(board.historyOf(3)).toEqual([
      [100, 1],
      [300, 0],
      [1100, 1],
      [1300, 0],
    ]);
    expect(notes).toEqual(['press', 'press']);
  });
});

describe('logical pins', () => {
  it('apply activeLow to outputs and inputs in one place', async () => {
    const board = new SimBoard('sim');
    await board.open([
      { pin: 1, direction: 'out' },
      { pin: 2, direction: 'in' },
    ]);
    const out = new OutputPin(board, { io: 'sim', pin: 1, activeLow: true });
    await out.set(true);
    expect(board.read(1)).toBe(0);
    const input = new InputPin(board, { io: 'sim', pin: 2, activeLow: true }, systemClock);
    expect(input.active).toBe(true); // level 0 on an active-low input is active
    board.setInput(2, 1);
    expect(new InputPin(board, { io: 'sim', pin: 2, activeLow: true }, systemClock).active).toBe(false);
  });

  it('report an input change only once it has held for the debounce time', async () => {
    vi.useFakeTimers({ now: 0 });
    const board = new SimBoard('sim', { clock: systemClock });
    await board.open([{ pin: 2, direction: 'in' }]);
    const input = new InputPin(board, { io: 'sim', pin: 2, activeLow: false, debounceMs: 50 }, systemClock);
    const seen: Array<[number, boolean]> = [];
    input.onChange((v) => seen.push([Date.now(), v]));
    input.start();
    board.setInput(2, 1);
    vi.advanceTimersByTime(20);
    board.setInput(2, 0); // a 20 ms glitch: never reported
    vi.advanceTimersByTime(100);
    board.setInput(2, 1); // t = 120
    vi.advanceTimersByTime(100);
    input.stop();
    expect(seen).toEqual([[170, true]]);
  });
});

describe('errors', () => {
  it('carry a string code, context and retryability', () => {
    const e = new GatewayError('MODBUS_TIMEOUT', 'unit 3 did not answer', { unit: 3 });
    expect(isGatewayError(e, 'MODBUS_TIMEOUT')).toBe(true);
    expect(isGatewayError(e, 'CONFIG_INVALID')).toBe(false);
    expect(isRetryable(e)).toBe(true);
    expect(isRetryable(new GatewayError('CONFIG_INVALID', 'x'))).toBe(false);
    expect(e.context).toEqual({ unit: 3 });
  });
});

describe('ULIDs', () => {
  it('encode the time and sort in creation order even within one millisecond or a clock step back', () => {
    const next = ulidFactory();
    const ids = [next(0), next(0), next(5), next(5), next(3), next(1_795_312_800_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(ulidTime(ids[5]!)).toBe(1_795_312_800_000);
    expect(ulidTime(ids[4]!)).toBe(5);
  });
});
