/** A full disk (a real, tiny tmpfs) must not stop the gates, and journaling resumes with space. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import { eventMaker } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { until } from './peers/broker.js';
import { SimBoard } from '../drivers/io/sim.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'eg-tmpfs-'));
const canMount = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'ignore' }).status === 0;

afterAll(() => {
  if (canMount) spawnSync('umount', ['-l', mountPoint]);
});

/** A gateway with one door on a sim board, journaling to `dir` on the tmpfs, started. */
async function doorGateway(dir: string, door: Record<string, unknown> = {}, more: Record<string, unknown> = {}) {
  const config = siteConfig({
    io: [{ id: 'sim', type: 'sim' }],
    devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure', ...door }],
    ...more,
  });
  config.gateway.dataDir = join(mountPoint, dir);
  const board = new SimBoard('sim');
  const gateway = new Gateway({ config, log: silentLog, version: 't', boards: new Map([['sim', board]]), listen: false });
  const events: GatewayEvent[] = [];
  gateway.eventBus.on('event', 'test', (e) => void events.push(e));
  await gateway.start();
  return { gateway, board, events, config };
}

describe.runIf(canMount)('the journal on a disk that fills up (8 MB tmpfs)', () => {
  let filler: string;
  beforeAll(() => {
    mkdirSync(join(mountPoint, 'data'));
    filler = join(mountPoint, 'filler');
  });

  it('gates keep working while the disk is full, the condition is reported, and nothing is lost when space returns', async () => {
    const { gateway, board, events } = await doorGateway('data');
    try {
      // Fill the disk to the last byte, then keep making events.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd stops with ENOSPC: the disk is full
      }
      const make = eventMaker('test-site', 'gw-test', gateway.clock);
      for (let i = 0; i < 3000; i++) gateway.eventBus.emit('event', make('meter.reading', 'm1', { values: { powerW: i, energyImportKwh: i / 10 } }));
      await until('storage.error', () => events.some((e) => e.type === 'storage.error'), 10_000);
      expect(events.find((e) => e.type === 'storage.error')!.data).toMatchObject({ condition: 'disk-full' });
      expect(gateway.health().status).toBe('degraded');

      // The door still answers at once, and its answer is not held for a disk that cannot
      // write: it goes, and is counted at risk.
      const door = gateway.devices.get('door-a')!;
      expect(door.command('open', { by: 'console' })).toEqual({ ok: true });
      expect(board.read(1)).toBe(1);
      const t0 = Date.now();
      await gateway.committed();
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(gateway.acksAtRisk).toBe(1);
      expect(gateway.health().journal?.acksAtRisk).toBe(1);

      rmSync(filler);
      await until('storage.recovered', () => events.some((e) => e.type === 'storage.recovered'), 10_000);
      const stats = await gateway.journal!.stats();
      const rows = await gateway.journal!.read({ limit: 10_000 });
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: stats.lastSeq }, (_, i) => i + 1));
      expect(rows.filter((r) => r.type === 'meter.reading')).toHaveLength(3000);
      expect(rows.filter((r) => r.type !== 'meter.reading').map((r) => r.type)).toContain('door.unlocked');
    } finally {
      rmSync(filler, { force: true });
      await gateway.stop();
    }
  }, 30_000);

  it('a disk smaller than the budget: telemetry is thinned before the disk fills, every access event is kept, no disk-full', async () => {
    // A broker that never answers: nothing is forwarded.
    const { gateway, events, config } = await doorGateway('small', { unlockMs: 200 }, { upstream: { mqtt: { url: 'mqtt://127.0.0.1:1' } } });
    expect(config.storage.maxBytes).toBeGreaterThan(8 * 1024 * 1024); // the default budget, larger than this disk
    try {
      const make = eventMaker('test-site', 'gw-test', gateway.clock);
      const values = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`value${i}W`, 1234.5678 + i]));
      const door = gateway.devices.get('door-a')!;
      let opened = 0;
      // ~18,000 readings of ~500 bytes: more than the 8 MB disk holds.
      for (let round = 0; round < 60; round++) {
        for (let i = 0; i < 300; i++) gateway.eventBus.emit('event', make('meter.reading', 'm1', { values }));
        expect(door.command('open', { by: 'console' })).toEqual({ ok: true }); // an access event: written at once, readings along
        opened++;
        const journal = gateway.journal!;
        await until(`round ${round} durable`, () => journal.durable >= journal.seq, 10_000);
        await new Promise((r) => setTimeout(r, 220)); // the door locks again
      }
      expect(events.filter((e) => e.type === 'storage.error')).toEqual([]);
      expect(events.some((e) => e.type === 'storage.pressure')).toBe(true);
      const dropped = events.filter((e) => e.type === 'storage.dropped');
      expect(dropped.length).toBeGreaterThan(0);
      const rows = await gateway.journal!.read({ limit: 100_000 });
      expect(rows.filter((r) => r.type === 'door.unlocked')).toHaveLength(opened);
      expect(rows.filter((r) => r.type === 'meter.reading').length).toBeLessThan(18_000);
      const fs = statfsSync(mountPoint);
      expect(fs.bavail * fs.bsize).toBeGreaterThan(0);
    } finally {
      await gateway.stop();
    }
  }, 60_000);
});
