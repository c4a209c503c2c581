/** A full disk (a real, tiny tmpfs) must not stop the gates, and journaling resumes with space. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../gateway/events.js';
import { eventMaker } from '../gateway/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { until } from './peers/broker.js';
import { SimBoard } from '../drivers/io/sim.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'eg-tmpfs-'));
const canMount =
  process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'ignore' }).status === 0;

afterAll(() => {
  if (canMount) spawnSync('umount', ['-l', mountPoint]);
});

describe.runIf(canMount)('the journal on a disk that fills up (8 MB tmpfs)', () => {
  let filler: string;
  beforeAll(() => {
    mkdirSync(join(mountPoint, 'data'));
    filler = join(mountPoint, 'filler');
  });

  it('gates keep working while the disk is full, the condition is reported, and nothing is lost when space returns', async () => {
    const config = siteConfig({
      io: [{ id: 'sim', type: 'sim' }],
      devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' }],
    });
    config.gateway.dataDir = join(mountPoint, 'data');
    const board = new SimBoard('sim');
    const gateway = new Gateway({ config, log: silentLog, version: 't', boards: new Map([['sim', board]]), listen: false });
    const events: GatewayEvent[] = [];
    gateway.bus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    try {
      // Fill the disk to the last byte, then keep making events.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd stops with ENOSPC: the disk is full
      }
      const make = eventMaker('test-site', 'gw-test', gateway.clock);
      for (let i = 0; i < 3000; i++) gateway.bus.emit('event', make('meter.reading', 'm1', { values: { powerW: i, energyImportKwh: i / 10 } }));
      await until('storage.error', () => events.some((e) => e.type === 'storage.error'), 10_000);
      expect(events.find((e) => e.type === 'storage.error')!.data).toMatchObject({ condition: 'disk-full' });
      expect(gateway.health().status).toBe('degraded');

      // The door still answers at once.
      const door = gateway.devices.get('door-a')!;
      expect(door.command('open', { by: 'console' })).toEqual({ ok: true });
      expect(board.read(1)).toBe(1);

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
});
