/**
 * A Pi has no battery clock: after a power cut it runs on a stale time until NTP answers. Events
 * made before the first sync say so, the sync says by how much they were off, a step of the clock
 * is an event, and no fee is charged for a stay measured on an unsynchronised clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClockSyncReading } from '../core/clock-sync.js';
import type { GatewayEvent } from '../core/events.js';
import { SimBoard } from '../drivers/io/sim.js';
import { ClockWatch } from '../gateway/clock-watch.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the clock watch', () => {
  it('an unsynchronised start, then NTP steps the clock three years ahead: a jump, and the correction for what came before', async () => {
    let wall = Date.parse('2023-01-01T00:00:00Z'); // the last time the Pi saved, before its power cut
    let mono = 1000;
    let state: ClockSyncReading = { state: 'unsynced', source: 'timedatectl' };
    const events: Array<[string, unknown]> = [];
    const watch = new ClockWatch({
      read: async () => state,
      wall: () => wall,
      mono: () => mono,
      log: silentLog,
      emit: (type, data) => void events.push([type, data]),
    });
    await watch.poll();
    expect(watch.synced).toBe(false);
    expect(events).toEqual([['clock.unsynced', { source: 'timedatectl' }]]);
    // 90 s of running, then NTP answers and steps the clock to the real time.
    wall += 90_000;
    mono += 90_000;
    const step = Date.parse('2026-11-24T08:00:00Z') - wall;
    wall += step;
    state = { state: 'synced', source: 'timedatectl' };
    await watch.poll();
    expect(watch.synced).toBe(true);
    expect(events.slice(1)).toEqual([
      ['clock.jumped', { jumpMs: step, from: '2023-01-01T00:01:30.000Z', to: '2026-11-24T08:00:00.000Z' }],
      ['clock.synced', { source: 'timedatectl', correctionMs: step, unsyncedSince: '2023-01-01T00:00:00.000Z' }],
    ]);
    // A clock that keeps time raises nothing more.
    wall += 5000;
    mono += 5000;
    await watch.poll();
    expect(events).toHaveLength(3);
  });

  it('a system that cannot tell (no timedatectl) is trusted, so gates and fees keep working', async () => {
    const watch = new ClockWatch({ read: async () => ({ state: 'unknown', source: 'none' }), log: silentLog, emit: () => undefined });
    await watch.poll();
    expect(watch.synced).toBe(true);
  });
});

describe('the gateway on an unsynchronised clock', () => {
  it('flags its events, withholds the fee of a stay measured before the sync, and charges again once synced', async () => {
    let reading: ClockSyncReading = { state: 'unsynced', source: 'test' };
    const config = siteConfig({
      io: [{ id: 'sim', type: 'sim' }],
      devices: [
        { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 1 } },
        { id: 'cam-in', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
        { id: 'cam-out', type: 'lpr-camera', vendor: 'generic', direction: 'out', lane: 'gate', allowFrom: ['127.0.0.1'] },
      ],
      access: { visitors: 'record', tariff: { freeMinutes: 0, perHourCents: 500, dailyCapCents: 5000 } },
    });
    const gateway = new Gateway({
      config,
      log: silentLog,
      version: 't',
      boards: new Map([['sim', new SimBoard('sim')]]),
      listen: false,
      journal: false,
      clockSync: { read: async () => reading },
    });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const push = (camera: string, plate: string) =>
      gateway.pushSources.get(camera)!.handlePush(Buffer.from(JSON.stringify({ plate })), 'application/json', `/lpr/${camera}`, '127.0.0.1');

    push('cam-in', '粤A11111'); // enters while the clock is wrong
    expect(events.find((e) => e.type === 'clock.unsynced')).toBeDefined();
    expect(events.filter((e) => e.type === 'vehicle.entry').map((e) => e.clockSynced)).toEqual([false]);

    reading = { state: 'synced', source: 'test' };
    await (gateway as unknown as { clockWatch: ClockWatch }).clockWatch.poll();
    expect(events.find((e) => e.type === 'clock.synced')?.data).toMatchObject({ source: 'test', correctionMs: expect.any(Number) });

    push('cam-in', '粤A22222'); // enters on a good clock
    push('cam-out', '粤A11111');
    push('cam-out', '粤A22222');
    const exits = events.filter((e) => e.type === 'vehicle.exit');
    expect(
      exits.map((e) => [
        e.clockSynced,
        (e.data as { plate: string }).plate,
        (e.data as { feeCents?: number }).feeCents,
        (e.data as { feeWithheld?: string }).feeWithheld,
      ]),
    ).toEqual([
      [undefined, '粤A11111', undefined, 'clock-unsynced'], // its stay began on the wrong clock: not charged
      [undefined, '粤A22222', 0, undefined], // computed by the tariff (a stay of a moment is free)
    ]);
  });
});
