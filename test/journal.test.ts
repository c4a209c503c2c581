import { ManualClock } from '../core/clock.js';
import { until } from './peers/broker.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { eventMaker } from '../core/events.js';
import type { GatewayEvent } from '../core/events.js';
import { Journal } from '../journal/journal.js';

const make = eventMaker('site-a', 'gw-1', systemClock);
const door = (i: number): GatewayEvent => make('door.unlocked', 'door-a', { by: 'console', user: `u${i}` });
const reading = (i: number): GatewayEvent => make('meter.reading', 'meter-1', { values: { powerW: i, energyImportKwh: 1000 + i, voltageV: 230.1 } });

const open: Journal[] = [];
afterEach(async () => {
  for (const j of open.splice(0)) await j.close().catch(() => undefined);
});
async function journal(dataDir: string, maxBytes = 100_000_000, keepForwardedDays = 7, hooks = {}) {
  const j = await Journal.open({ dataDir, maxBytes, keepForwardedDays }, hooks);
  open.push(j);
  return j;
}
const dir = () => mkdtempSync(join(tmpdir(), 'eg-journal-'));

describe('the journal', () => {
  it('gives gapless seqs that continue after a restart, and keeps every event in order', async () => {
    const d = dir();
    let j = await journal(d);
    const first = Array.from({ length: 1000 }, (_, i) => j.append(door(i)));
    expect(first.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    await j.close();
    j = await journal(d);
    expect(j.seq).toBe(1000);
    // Health reads these: the backlog is known as soon as the journal is open, not a round later.
    expect(j.lastStats).toMatchObject({ lastSeq: 1000, depth: 1000, oldestPendingTime: first[0]!.time });
    expect(j.append(door(1000)).seq).toBe(1001);
    const all = await j.read({ limit: 2000 });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
    expect(all[0]).toMatchObject({ id: first[0]!.id, type: 'door.unlocked', site: 'site-a', gateway: 'gw-1', data: { user: 'u0' }, forwarded: false });
  });

  it('committed() resolves once what was appended is on disk, many waiters sharing one transaction, a waiting reading not holding it back', async () => {
    const d = dir();
    const j = await journal(d);
    const first = j.append(door(0));
    await j.committed();
    const quiet = j.batches;
    j.append(reading(0)); // telemetry after a commit would wait up to a second for company
    const last = j.append(door(1)).seq;
    const waits = Array.from({ length: 50 }, () => j.committed());
    expect(j.durable).toBeLessThan(last); // nothing is on disk yet: the answers must wait
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
    expect(j.durable).toBeGreaterThanOrEqual(last);
    expect(j.batches - quiet).toBe(1);
    // A reading alone is not held for a second either when something waits on it.
    const r = j.append(reading(1));
    const t0 = Date.now();
    expect(await j.committed()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(j.durable).toBe(r.seq);
    // What committed() promised is in the file as another reader sees it.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(d, 'journal.db'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(r.seq);
    expect((db.prepare('SELECT id FROM events WHERE seq = ?').get(first.seq) as { id: string }).id).toBe(first.id);
    db.close();
  });

  it('a burst of appends is written in a few transactions, not one per event', async () => {
    const j = await journal(dir());
    for (let i = 0; i < 10_000; i++) j.append(door(i));
    expect((await j.stats()).depth).toBe(10_000);
    expect(j.batches).toBeLessThanOrEqual(3);
  });

  it('telemetry is committed about once a second, the first reading at once; an access event at once, taking waiting readings along', async () => {
    // On fake time: the batching window is the journal's clock, moved here 50 ms a reading.
    const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
    const j = await Journal.open({ dataDir: dir(), maxBytes: 100_000_000, keepForwardedDays: 7, clock });
    open.push(j);
    const started = j.append(door(0)); // as gateway.started is, just before the first reading
    await until('the first commit', () => j.durable >= started.seq);
    j.ack([started.seq]); // and the broker's acknowledgement of it, as the uplink connects
    const commits: number[] = [];
    j.onDurable((upTo) => commits.push(upTo));
    // 20 readings a second for 2.5 s, as a busy meter bus makes them
    for (let i = 0; i < 50; i++) {
      j.append(reading(i)); // seq 2 + i, at 50 * i ms
      await new Promise((r) => setImmediate(r)); // the journal's own turn (where an urgent post goes)
      const before = commits.length;
      clock.advance(50);
      // where a window closed (the first reading's, and every full second), its commit comes before time moves on
      if (i === 0 || ((i + 1) * 50) % 1000 === 0) await until('the window closing', () => commits.length > before);
    }
    // the first reading went at once; the next ones in one batch a second: 1..19 when the window
    // closed at 1 s, 20..39 at 2 s (what each commit covers shows when it was sent)
    await until('three commits', () => commits.length >= 3);
    expect(commits).toEqual([2, 21, 41]);
    expect(clock.pending()).toEqual([500]); // readings 40..49 wait for the window at 3 s
    // readings 40..49 wait for the 3 s window: a reading now waits, a door event does not
    j.append(reading(50));
    const door1 = j.append(door(1));
    await until('the door event', () => j.durable >= door1.seq);
    expect(commits).toEqual([2, 21, 41, door1.seq]); // one commit for the door and every reading that waited
    expect(clock.pending()).toEqual([]); // nothing left waiting for the window
    // acknowledgements alone wait for the next window, but a reader sees them at once
    j.ack([1, 2, 3]);
    expect((await j.pending(0, 4, 10)).map((e) => e.seq)).toEqual([]);
  });

  it('forwarded events leave the pending list; seqs are never reused after retention deletes them', async () => {
    const d = dir();
    let j = await journal(d, 100_000_000, 0);
    for (let i = 0; i < 10; i++) j.append(door(i));
    j.ack([1, 2, 3, 5]);
    expect((await j.pending(0, Infinity, 100)).map((e) => e.seq)).toEqual([4, 6, 7, 8, 9, 10]);
    expect((await j.pending(4, 9, 100)).map((e) => e.seq)).toEqual([6, 7, 8]);
    j.ack([4, 6, 7, 8, 9, 10]);
    await j.close();
    // keepForwardedDays 0: the next open's retention may delete every row; the seq goes on.
    j = await journal(d, 100_000_000, 0);
    expect(j.append(door(99)).seq).toBe(11);
  });

  it('keeps the budget by thinning telemetry oldest first; access events all survive and the drop is reported', async () => {
    const drops: Array<[number, string]> = [];
    const pressure: number[] = [];
    const j = await journal(dir(), 400_000, 7, { dropped: (n: number, r: string) => drops.push([n, r]), pressure: (u: number) => pressure.push(u) });
    const doors: number[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 200; i++) j.append(reading(round * 200 + i));
      doors.push(j.append(door(round)).seq);
      await j.stats(); // let the worker write this round
    }
    const stats = await j.stats();
    expect(stats.fileBytes).toBeLessThanOrEqual(400_000);
    const kept = await j.read({ limit: 100_000 });
    expect(kept.filter((e) => e.type === 'door.unlocked').map((e) => e.seq)).toEqual(doors);
    const telemetry = kept.filter((e) => e.type === 'meter.reading').map((e) => e.seq);
    expect(telemetry.length).toBeLessThan(8000);
    expect(telemetry.at(-1)).toBe(j.seq - 1); // the newest readings are the ones kept
    const dropped = drops.reduce((n, [c]) => n + c, 0);
    expect(dropped).toBe(8000 - telemetry.length);
    expect(drops[0]![1]).toMatch(/telemetry/);
    expect(pressure.length).toBeGreaterThan(0);
  });

  it('moves a corrupt file aside, reports it and starts afresh with seqs that still increase', async () => {
    const d = dir();
    writeFileSync(join(d, 'journal.db'), 'this is not a database '.repeat(1000));
    const j = await journal(d);
    expect(j.movedAside).toMatch(/journal\.db\.corrupt-/);
    expect(j.append(door(1)).seq).toBeGreaterThan(1_700_000_000_000_000);
  });
});
