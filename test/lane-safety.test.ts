/**
 * Randomized safety: thousands of random interleavings of loop flicker, commands, fire alarm and
 * restarts, with section 6 of the contract checked from the pin histories after every step.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimBoard } from '../drivers/io/sim.js';
import type { Level } from '../drivers/io/types.js';
import { systemClock } from '../core/clock.js';
import { pinUses } from '../config/pins.js';
import { Gateway } from '../gateway/main.js';
import { seededRandom, siteConfig, silentLog } from './helpers.js';
import { SafetyChecker } from './safety-checker.js';

const PINS = {
  barrier: { open: 10, close: 11, loop: 12, travelMs: 4000 },
  bollard: { lower: 30, raise: 31, loop: 32, down: 33, up: 34, travelMs: 6000 },
  door: { lock: 1, unlockedLevel: 1 as const },
  fire: 20,
};

const config = siteConfig({
  io: [{ id: 'sim', type: 'sim' }],
  devices: [
    { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 10 }, close: { io: 'sim', pin: 11 }, safetyLoop: { io: 'sim', pin: 12 }, travelMs: 4000 },
    {
      id: 'post',
      type: 'bollard',
      lower: { io: 'sim', pin: 30 },
      raise: { io: 'sim', pin: 31 },
      safetyLoop: { io: 'sim', pin: 32 },
      downLimit: { io: 'sim', pin: 33 },
      upLimit: { io: 'sim', pin: 34 },
      travelMs: 6000,
    },
    { id: 'door', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure', exitButton: { io: 'sim', pin: 3 } },
  ],
  fireAlarm: { input: { io: 'sim', pin: 20 } },
});

/** The bollard's mechanics: it reaches a limit switch 2.5 s after a move starts. */
function bollardPhysics(board: SimBoard): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  board.onChange((c) => {
    if (c.value !== 1 || (c.pin !== PINS.bollard.raise && c.pin !== PINS.bollard.lower)) return;
    clearTimeout(timer);
    const up = c.pin === PINS.bollard.raise;
    board.setInput(up ? PINS.bollard.down : PINS.bollard.up, 0);
    timer = setTimeout(() => board.setInput(up ? PINS.bollard.up : PINS.bollard.down, 1), 2500);
  });
}

async function startOn(board: SimBoard): Promise<Gateway> {
  const gateway = new Gateway({ config, log: silentLog, version: 'test', boards: new Map([['sim', board]]), listen: false, journal: false });
  await gateway.start();
  return gateway;
}

async function scenario(seed: number, steps: number): Promise<{ violations: string[]; counts: Record<string, number> }> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const board = new SimBoard('sim', { clock: systemClock });
  bollardPhysics(board);
  const checker = new SafetyChecker(PINS);
  let gateway = await startOn(board);
  const counts: Record<string, number> = {};
  const toggle = (pin: number) => board.setInput(pin, (1 - board.read(pin)) as Level);
  const outputs = pinUses(config).filter((u) => u.direction === 'out');
  for (let step = 0; step < steps; step++) {
    const r = random();
    let action: string;
    if (r < 0.3) {
      action = 'wait';
      vi.advanceTimersByTime(pick([0, 1, 5, 29, 31, 100, 400, 999, 1000, 1001, 2000, 4500]));
    } else if (r < 0.45) {
      action = 'barrier-loop';
      toggle(PINS.barrier.loop);
    } else if (r < 0.6) {
      action = 'bollard-loop';
      toggle(PINS.bollard.loop);
    } else if (r < 0.72) {
      action = 'barrier-command';
      gateway.devices.get('gate')!.command(pick(['open', 'close'] as const), { by: pick(['console', 'remote', 'camera'] as const) });
    } else if (r < 0.84) {
      action = 'bollard-command';
      const verb = pick(['open', 'close'] as const);
      if (verb === 'close') checker.raiseCommanded(Date.now());
      gateway.devices.get('post')!.command(verb, { by: pick(['console', 'remote'] as const) });
    } else if (r < 0.9) {
      action = 'door';
      if (random() < 0.5) toggle(3);
      else gateway.devices.get('door')!.command(pick(['open', 'close'] as const), { by: 'console' });
    } else if (r < 0.94) {
      // The installer's I/O page: any output, either level, sometimes as a pulse.
      action = 'io';
      const use = pick(outputs);
      const value = pick([0, 1] as const);
      if (use.owner === 'post' && use.role === 'raise' && value === 1) checker.raiseCommanded(Date.now());
      gateway.devices
        .get(use.owner)!
        .driveByHand(use.role, value === 1, random() < 0.5 ? pick([50, 500, 3000]) : undefined, { by: 'console', user: 'installer' });
    } else if (r < 0.97) {
      action = 'fire';
      toggle(PINS.fire);
    } else {
      action = 'restart';
      await gateway.stop('restart');
      checker.restarted(board.history.length);
      gateway = await startOn(board);
    }
    counts[action] = (counts[action] ?? 0) + 1;
    checker.advance(board.history, Date.now());
    if (checker.violations.length) {
      if (process.env.SAFETY_DEBUG) console.log(JSON.stringify(board.history.slice(-30)));
      return { violations: [`seed ${seed}, step ${step} (${action}):`, ...checker.violations], counts };
    }
  }
  await gateway.stop();
  return { violations: checker.violations, counts };
}

beforeEach(() => void vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('lanes under random interleavings never break a safety rule', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: 2000 random steps', async (seed) => {
    const { violations, counts } = await scenario(seed, 2000);
    expect(violations).toEqual([]);
    // The run really exercised what it claims to.
    for (const action of ['wait', 'barrier-loop', 'bollard-loop', 'barrier-command', 'bollard-command', 'io', 'fire', 'restart']) {
      expect(counts[action] ?? 0).toBeGreaterThan(10);
    }
  });
});

describe('the safety checker', () => {
  it('catches a close onto a vehicle and a raise without a command', () => {
    const checker = new SafetyChecker(PINS);
    checker.advance(
      [
        { time: 0, pin: 12, direction: 'in', value: 1 },
        { time: 10, pin: 11, direction: 'out', value: 1 },
        { time: 20, pin: 31, direction: 'out', value: 1 },
      ],
      30,
    );
    expect(checker.violations).toEqual([
      't=10: barrier CLOSE active while the loop reports a vehicle',
      't=20: barrier CLOSE active while the loop reports a vehicle',
      't=20: bollard raised without a command',
    ]);
  });

  it('catches a fire alarm that did not release the lanes', () => {
    const checker = new SafetyChecker(PINS);
    checker.advance([{ time: 0, pin: 20, direction: 'in', value: 1 }], 500);
    expect(checker.violations).toEqual([
      't=100: fire alarm: barrier OPEN not held',
      't=100: fire alarm: bollard LOWER not pulsed within 100 ms',
      't=100: fire alarm: door not unlocked',
    ]);
  });

  it('catches a close within the hold-off and a missing reversal', () => {
    const checker = new SafetyChecker(PINS);
    checker.advance(
      [
        { time: 0, pin: 12, direction: 'in', value: 1 },
        { time: 100, pin: 12, direction: 'in', value: 0 },
        { time: 600, pin: 11, direction: 'out', value: 1 },
        { time: 700, pin: 11, direction: 'out', value: 0 },
        { time: 800, pin: 12, direction: 'in', value: 1 },
      ],
      900,
    );
    expect(checker.violations).toEqual(['t=600: barrier CLOSE active 500 ms after the loop cleared', 't=800: barrier closing onto a vehicle was not reopened']);
  });
});
