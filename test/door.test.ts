import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';

const LOCK = 1;
const CONTACT = 2;
const EXIT = 3;
const FIRE = 20;

function doorSite(lockType: 'fail-secure' | 'fail-safe', extra: Record<string, unknown> = {}) {
  return {
    devices: [
      {
        id: 'door-a',
        type: 'door',
        lock: { io: 'sim', pin: LOCK },
        lockType,
        contact: { io: 'sim', pin: CONTACT },
        exitButton: { io: 'sim', pin: EXIT },
        unlockMs: 5000,
        heldOpenMs: 30000,
        ...extra,
      },
    ],
    fireAlarm: { input: { io: 'sim', pin: FIRE } },
  };
}

/** Presses and releases a button (raw levels) at the current time. */
function press(h: Harness, pin: number) {
  h.board.setInput(pin, 1);
  vi.advanceTimersByTime(200);
  h.board.setInput(pin, 0);
}

let h: Harness;
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(async () => {
  await h?.gateway.stop();
  vi.useRealTimers();
});

describe('a fail-secure door (strike: energised to unlock)', () => {
  it('starts locked, unlocks on the exit button for unlockMs, then relocks', async () => {
    h = await startGateway(doorSite('fail-secure'));
    vi.advanceTimersByTime(1000);
    press(h, EXIT); // settles after the 30 ms debounce: t = 1030
    vi.advanceTimersByTime(10_000);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 0],
      [1030, 1],
      [6030, 0],
    ]);
    expect(h.timeline()).toEqual([
      [0, 'gateway.started', 'gateway', { version: 'test', devices: 1 }],
      [1030, 'door.unlocked', 'door-a', { by: 'exit-button', durationMs: 5000 }],
      [6030, 'door.locked', 'door-a', { by: 'timeout' }],
    ]);
  });

  it('a second unlock request extends the unlock and never shortens it', async () => {
    h = await startGateway(doorSite('fail-secure'));
    vi.advanceTimersByTime(1000);
    press(h, EXIT); // unlocked at 1030 until 6030
    vi.advanceTimersByTime(2830); // press() ended at t = 1200; now t = 4030
    expect(h.gateway.devices.get('door-a')!.command('open', { by: 'console', user: 'guard1' })).toEqual({ ok: true });
    vi.advanceTimersByTime(4999); // t = 9029: still unlocked although the first unlock has ended
    expect(h.board.read(LOCK)).toBe(1);
    vi.advanceTimersByTime(1);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 0],
      [1030, 1],
      [9030, 0],
    ]);
    expect(h.timeline().slice(1)).toEqual([
      [1030, 'door.unlocked', 'door-a', { by: 'exit-button', durationMs: 5000 }],
      [4030, 'door.unlocked', 'door-a', { by: 'console', user: 'guard1', durationMs: 5000, extended: true }],
      [9030, 'door.locked', 'door-a', { by: 'timeout' }],
    ]);
  });

  it('opening while locked without an exit request is door.forced; open past heldOpenMs is door.held-open', async () => {
    h = await startGateway(doorSite('fail-secure'));
    vi.advanceTimersByTime(1000);
    h.board.setInput(CONTACT, 1); // door pulled open at 1000, settles at 1030
    vi.advanceTimersByTime(31_000); // held-open fires at 1030 + 30000 = 31030
    h.board.setInput(CONTACT, 0); // closed at 32000, settles at 32030
    vi.advanceTimersByTime(100);
    expect(h.timeline().slice(1)).toEqual([
      [1030, 'door.opened', 'door-a', { locked: true }],
      [1030, 'door.forced', 'door-a', {}],
      [31_030, 'door.held-open', 'door-a', { openMs: 30_000, heldOpenMs: 30_000 }],
      [32_030, 'door.closed', 'door-a', { openMs: 31_000 }],
    ]);
    expect(h.board.historyOf(LOCK)).toEqual([[0, 0]]);
  });

  it('a door opened after the exit button is neither forced nor held open when closed in time', async () => {
    h = await startGateway(doorSite('fail-secure'));
    vi.advanceTimersByTime(1000);
    press(h, EXIT); // unlocked at 1030
    h.board.setInput(CONTACT, 1); // t = 1200, settles 1230
    vi.advanceTimersByTime(3000);
    h.board.setInput(CONTACT, 0); // t = 4200, settles 4230
    vi.advanceTimersByTime(40_000);
    expect(
      h
        .timeline()
        .slice(1)
        .map(([t, type]) => [t, type]),
    ).toEqual([
      [1030, 'door.unlocked'],
      [1230, 'door.opened'],
      [4230, 'door.closed'],
      [6030, 'door.locked'],
    ]);
  });

  it('contact bounce within the debounce time is one opening', async () => {
    h = await startGateway(doorSite('fail-secure'));
    for (const v of [1, 0, 1, 0, 1] as const) {
      h.board.setInput(CONTACT, v);
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(100);
    expect(h.events.filter((e) => e.type === 'door.opened')).toHaveLength(1);
  });

  it('an activeLow lock output is inverted on the wire', async () => {
    h = await startGateway(doorSite('fail-secure', { lock: { io: 'sim', pin: LOCK, activeLow: true } }));
    vi.advanceTimersByTime(1000);
    press(h, EXIT);
    vi.advanceTimersByTime(10_000);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 1],
      [1030, 0],
      [6030, 1],
    ]);
  });
});

describe('a fail-safe door (maglock: energised to lock)', () => {
  it('holds the lock energised, releases it for unlockMs on the exit button, then locks again', async () => {
    h = await startGateway(doorSite('fail-safe'));
    vi.advanceTimersByTime(1000);
    press(h, EXIT);
    vi.advanceTimersByTime(10_000);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 1],
      [1030, 0],
      [6030, 1],
    ]);
    expect(h.timeline().slice(1)).toEqual([
      [1030, 'door.unlocked', 'door-a', { by: 'exit-button', durationMs: 5000 }],
      [6030, 'door.locked', 'door-a', { by: 'timeout' }],
    ]);
  });

  it('reports a forced and a held-open maglock door with the same events', async () => {
    h = await startGateway(doorSite('fail-safe', { heldOpenMs: 10_000 }));
    h.board.setInput(CONTACT, 1);
    vi.advanceTimersByTime(12_000);
    expect(h.timeline().slice(1)).toEqual([
      [30, 'door.opened', 'door-a', { locked: true }],
      [30, 'door.forced', 'door-a', {}],
      [10_030, 'door.held-open', 'door-a', { openMs: 10_000, heldOpenMs: 10_000 }],
    ]);
    expect(h.board.historyOf(LOCK)).toEqual([[0, 1]]);
  });

  it('is locked at once by a close command and refuses nothing while there is no fire alarm', async () => {
    h = await startGateway(doorSite('fail-safe'));
    const door = h.gateway.devices.get('door-a')!;
    door.command('open', { by: 'remote', user: 'platform-7' });
    vi.advanceTimersByTime(1000);
    expect(door.command('close', { by: 'console', user: 'guard1' })).toEqual({ ok: true });
    vi.advanceTimersByTime(10_000);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 1],
      [0, 0],
      [1000, 1],
    ]);
    expect(h.timeline().slice(1)).toEqual([
      [0, 'door.unlocked', 'door-a', { by: 'remote', user: 'platform-7', durationMs: 5000 }],
      [1000, 'door.locked', 'door-a', { by: 'console', user: 'guard1' }],
    ]);
  });
});

describe('doors and the fire alarm', () => {
  it('unlocks every door within 100 ms of the alarm, refuses to lock while it lasts, relocks when it clears', async () => {
    h = await startGateway({
      devices: [...doorSite('fail-secure').devices, { id: 'door-b', type: 'door', lock: { io: 'sim', pin: 4 }, lockType: 'fail-safe' }],
      fireAlarm: { input: { io: 'sim', pin: FIRE } },
    });
    vi.advanceTimersByTime(1000);
    h.board.setInput(FIRE, 1);
    vi.advanceTimersByTime(100);
    expect(h.board.read(LOCK)).toBe(1); // strike energised: unlocked
    expect(h.board.read(4)).toBe(0); // maglock released
    const refused = h.gateway.devices.get('door-b')!.command('close', { by: 'console' });
    expect(refused).toMatchObject({ ok: false, error: 'fire-alarm' });
    press(h, EXIT); // an exit request changes nothing while released
    vi.advanceTimersByTime(60_000); // no relock timer runs during the alarm
    expect(h.board.read(LOCK)).toBe(1);
    h.board.setInput(FIRE, 0); // t = 61300
    vi.advanceTimersByTime(100);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 0],
      [1030, 1],
      [61_330, 0],
    ]);
    expect(h.board.historyOf(4)).toEqual([
      [0, 1],
      [1030, 0],
      [61_330, 1],
    ]);
    expect(
      h
        .timeline()
        .slice(1)
        .map(([t, type, device]) => [t, type, device]),
    ).toEqual([
      [1030, 'fire-alarm.raised', 'fire-alarm'],
      [1030, 'door.unlocked', 'door-a'],
      [1030, 'door.unlocked', 'door-b'],
      [61_330, 'fire-alarm.cleared', 'fire-alarm'],
      [61_330, 'door.locked', 'door-a'],
      [61_330, 'door.locked', 'door-b'],
    ]);
  });

  it('starts with every door unlocked when the fire alarm is already active', async () => {
    const { SimBoard } = await import('../drivers/io/sim.js');
    const { Gateway } = await import('../gateway/main.js');
    const { siteConfig, silentLog } = await import('./helpers.js');
    const board = new SimBoard('sim');
    await board.open([{ pin: FIRE, direction: 'in' }]);
    board.setInput(FIRE, 1);
    const config = siteConfig({ io: [{ id: 'sim', type: 'sim' }], ...doorSite('fail-secure') });
    const gateway = new Gateway({ config, log: silentLog, version: 'test', boards: new Map([['sim', board]]), listen: false, journal: false });
    const types: string[] = [];
    gateway.eventBus.on('event', 'test', (e) => void types.push(`${e.type}:${JSON.stringify(e.data)}`));
    await gateway.start();
    expect(board.historyOf(LOCK)).toEqual([[0, 1]]);
    expect(types.slice(0, 2)).toEqual(['door.unlocked:{"by":"fire-alarm"}', 'fire-alarm.raised:{}']);
    await gateway.stop();
    expect(board.read(LOCK)).toBe(1); // still released after stop: the alarm is on
  });
});

describe('stopping and board faults', () => {
  it('relocks an unlocked door on stop and records why', async () => {
    h = await startGateway(doorSite('fail-safe'));
    h.gateway.devices.get('door-a')!.command('open', { by: 'console' });
    vi.advanceTimersByTime(500);
    await h.gateway.stop('SIGTERM');
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 1],
      [0, 0],
      [500, 1],
    ]);
    expect(h.events.map((e) => e.type).slice(-2)).toEqual(['gateway.stopping', 'door.locked']);
    expect(h.events.at(-1)!.data).toEqual({ by: 'shutdown' });
  });

  it('a board that goes away faults its doors once and re-asserts the lock when it returns', async () => {
    h = await startGateway(doorSite('fail-safe'));
    h.board.setOnline(false, 'unplugged');
    h.board.setOnline(false, 'unplugged');
    expect(h.gateway.devices.get('door-a')!.snapshot()).toMatchObject({ state: 'locked', fault: 'BOARD_OFFLINE' });
    expect(h.gateway.health()).toMatchObject({ status: 'degraded', devices: { ok: 0, fault: 1 } });
    vi.advanceTimersByTime(1000);
    h.board.setOnline(true);
    expect(h.board.historyOf(LOCK)).toEqual([
      [0, 1],
      [1000, 1],
    ]);
    expect(h.timeline().slice(1)).toEqual([
      [0, 'device.fault', 'door-a', { code: 'BOARD_OFFLINE', message: 'io board sim: unplugged' }],
      [1000, 'device.recovered', 'door-a', { code: 'BOARD_OFFLINE' }],
    ]);
  });
});

describe('door events', () => {
  it('carry the contract envelope with a ULID id, ISO time, site, gateway and device', async () => {
    h = await startGateway(doorSite('fail-secure'));
    press(h, EXIT);
    const ev = h.events.find((e) => e.type === 'door.unlocked')!;
    expect(ev).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      time: '1970-01-01T00:00:00.030Z',
      type: 'door.unlocked',
      site: 'test-site',
      gateway: 'gw-test',
      device: 'door-a',
      schema: 1,
      data: { by: 'exit-button', durationMs: 5000 },
    });
    const ids = h.events.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids); // ids sort in the order events were made
    expect(new Set(ids).size).toBe(ids.length);
  });
});
