/**
 * Journal throughput: durable appends per second through the Journal (worker thread, group
 * commit) beside raw better-sqlite3 inserting the same rows in 100-row WAL FULL transactions.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../core/clock.js';
import { eventMaker } from '../core/events.js';
import type { GatewayEvent } from '../core/events.js';
import { Journal, rowOf } from '../journal/journal.js';
import { JournalStore } from '../journal/store.js';

const make = eventMaker('bench-site', 'gw-bench', systemClock);
export const sampleEvent = (i: number): GatewayEvent =>
  make('vehicle.entry', 'cam-north-in', {
    plate: '粤B12345',
    confidence: 96,
    lane: 'gate-north',
    decision: 'granted',
    reason: 'resident',
    visitor: i % 7 === 0,
  });

function writeBytes(): number {
  const m = /write_bytes:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

export async function journalAppendRate(n: number): Promise<{ perSec: number; bytesPerEvent: number; batches: number; file: string }> {
  const journal = await Journal.open({ dataDir: mkdtempSync(join(tmpdir(), 'eg-bench-j-')), maxBytes: 10e9, keepForwardedDays: 7 });
  const events = Array.from({ length: n }, (_, i) => sampleEvent(i));
  const bytes0 = writeBytes();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    journal.onDurable((upTo) => upTo >= n && resolve());
    // A stream of events as a busy gateway makes them: 500 per turn of the event loop.
    let i = 0;
    const feed = () => {
      for (const end = Math.min(n, i + 500); i < end; i++) journal.append(events[i]!);
      if (i < n) setImmediate(feed);
    };
    feed();
  });
  const seconds = (performance.now() - t0) / 1000;
  const bytes = writeBytes() - bytes0;
  const batches = journal.batches;
  await journal.close();
  return { perSec: n / seconds, bytesPerEvent: bytes / n, batches, file: journal.file };
}

/**
 * The worker's once-a-second figures for health (depth, oldest pending) on a journal whose every
 * event is pending, beside counting the pending rows, which is what a round cost before.
 */
export function housekeepingRound(file: string): { statsMs: number; countMs: number; depth: number } {
  const store = new JournalStore(file, { maxBytes: 10e9, keepForwardedDays: 7 });
  const time = (f: () => unknown) => {
    const runs = Array.from({ length: 21 }, () => {
      const t0 = performance.now();
      f();
      return performance.now() - t0;
    });
    return runs.sort((a, b) => a - b)[10]!;
  };
  const count = store.db.prepare('SELECT count(*) AS n FROM events WHERE forwarded = 0');
  const result = { statsMs: time(() => store.stats()), countMs: time(() => count.get()), depth: store.stats().depth };
  store.close();
  return result;
}

export function rawInsertRate(n: number): number {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'eg-bench-raw-')), 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, time TEXT NOT NULL, type TEXT NOT NULL, device TEXT NOT NULL,
    cls INTEGER NOT NULL, body TEXT NOT NULL, forwarded INTEGER NOT NULL DEFAULT 0, journaled_at INTEGER NOT NULL);
    CREATE INDEX events_pending ON events(seq) WHERE forwarded = 0;`);
  const insert = db.prepare(
    'INSERT INTO events (seq, id, time, type, device, cls, body, journaled_at) VALUES (@seq, @id, @time, @type, @device, @cls, @body, @at)',
  );
  const rows = Array.from({ length: n }, (_, i) => ({ ...rowOf({ ...sampleEvent(i), seq: i + 1, historical: false }), at: Date.now() }));
  const tx = db.transaction((batch: typeof rows) => {
    for (const r of batch) insert.run(r);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 100) tx(rows.slice(i, i + 100));
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return n / seconds;
}
