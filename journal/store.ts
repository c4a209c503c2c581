/**
 * The journal's SQLite side, synchronous, owned by the journal worker thread (journal/worker.ts).
 *
 * One table of events with a gapless `seq`. WAL with synchronous=FULL: a committed batch survives
 * a power cut. Rows are marked forwarded only after the broker's PUBACK; forwarded rows are
 * deleted after keepForwardedDays. The budget (maxBytes) is kept by thinning telemetry oldest
 * first, then forwarded rows; unforwarded access and safety events are never dropped for room.
 */
import { existsSync, renameSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';
import { TELEMETRY } from './protocol.js';

export { ACCESS, TELEMETRY } from './protocol.js';

export interface JournalRow {
  seq: number;
  id: string;
  time: string;
  type: string;
  device: string;
  cls: number;
  /** the envelope as JSON, seq included, without `historical` */
  body: string;
}

export interface StoredEvent extends JournalRow {
  forwarded: number;
}

export interface StoreOptions {
  maxBytes: number;
  keepForwardedDays: number;
  now?: () => number;
}

export interface StoreStats {
  lastSeq: number;
  depth: number;
  oldestPendingTime: string | null;
  usedBytes: number;
  fileBytes: number;
  maxBytes: number;
}

export interface ThinResult {
  dropped: number;
  deletedForwarded: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  device TEXT NOT NULL,
  cls INTEGER NOT NULL,
  body TEXT NOT NULL,
  forwarded INTEGER NOT NULL DEFAULT 0,
  journaled_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pending ON events(seq) WHERE forwarded = 0;
CREATE INDEX IF NOT EXISTS events_forwarded ON events(journaled_at) WHERE forwarded = 1;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

export class JournalStore {
  readonly db: DB;
  private readonly insert: Statement;
  private readonly ack: Statement;
  private readonly now: () => number;
  /** unforwarded rows: counted once on open, then kept by every write (a count over a million-row backlog costs ~50 ms) */
  private depth: number;
  /** set when a corrupt file was moved aside on open */
  readonly movedAside: string | undefined;

  constructor(
    readonly file: string,
    private readonly options: StoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    let moved: string | undefined;
    let db: DB;
    try {
      db = JournalStore.openChecked(file);
    } catch (err) {
      // A corrupt journal is moved aside (for a person to look at) and a fresh one started.
      moved = `${file}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
      const lastSeq = JournalStore.salvageLastSeq(file);
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, moved + suffix);
      db = JournalStore.openChecked(file);
      // seq must keep increasing: continue after the old file's last seq, or, if even that is
      // unreadable, from a number no earlier journal can have reached (microseconds since 1970).
      db.prepare('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)').run('seqFloor', lastSeq ?? this.now() * 1000);
      void err;
    }
    this.db = db;
    this.movedAside = moved;
    this.insert = db.prepare(
      'INSERT INTO events (seq, id, time, type, device, cls, body, journaled_at) VALUES (@seq, @id, @time, @type, @device, @cls, @body, @at)',
    );
    this.ack = db.prepare('UPDATE events SET forwarded = 1, journaled_at = ? WHERE seq = ? AND forwarded = 0');
    this.depth = (db.prepare('SELECT count(*) AS n FROM events WHERE forwarded = 0').get() as { n: number }).n;
  }

  private static openChecked(file: string): DB {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('journal_size_limit = 1048576');
      db.pragma('wal_autocheckpoint = 256');
      // The journal appends and reads recent pages: 1 MB of page cache serves it as well as the
      // default 2 MB, and what it holds stays resident for the life of the process.
      db.pragma('cache_size = -1024');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
      db.exec(SCHEMA);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private static salvageLastSeq(file: string): number | undefined {
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null };
        return row.s ?? undefined;
      } finally {
        db.close();
      }
    } catch {
      return undefined;
    }
  }

  /** The last seq ever given out: the highest row, or the floor kept after a corrupt file. */
  lastSeq(): number {
    const row = this.db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null };
    const floor = this.db.prepare("SELECT value FROM meta WHERE key = 'seqFloor'").get() as { value: number } | undefined;
    const kept = this.db.prepare("SELECT value FROM meta WHERE key = 'lastSeq'").get() as { value: number } | undefined;
    return Math.max(row.s ?? 0, floor?.value ?? 0, kept?.value ?? 0);
  }

  /** Appends rows in one transaction: one fsync for the whole batch. */
  append(rows: readonly JournalRow[]): void {
    const at = this.now();
    const tx = this.db.transaction((batch: readonly JournalRow[]) => {
      for (const r of batch) this.insert.run({ ...r, at });
      // Remember the high-water mark, so thinning or retention never lets a seq be reused.
      const last = batch[batch.length - 1];
      if (last) this.db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('lastSeq', ?)").run(last.seq);
    });
    tx(rows);
    this.depth += rows.length;
  }

  markForwarded(seqs: readonly number[]): void {
    const at = this.now();
    const tx = this.db.transaction((list: readonly number[]) => {
      let changed = 0;
      for (const seq of list) changed += this.ack.run(at, seq).changes;
      return changed;
    });
    this.depth -= tx(seqs);
  }

  markForwardedUpTo(seq: number): void {
    this.depth -= this.db.prepare('UPDATE events SET forwarded = 1, journaled_at = ? WHERE forwarded = 0 AND seq <= ?').run(this.now(), seq).changes;
  }

  /** Unforwarded events with after < seq < before, in seq order. */
  pending(after: number, before: number, limit: number): JournalRow[] {
    return this.db
      .prepare('SELECT seq, id, time, type, device, cls, body FROM events WHERE forwarded = 0 AND seq > ? AND seq < ? ORDER BY seq LIMIT ?')
      .all(after, before, limit) as JournalRow[];
  }

  read(q: { after?: number; limit?: number; pendingOnly?: boolean; type?: string }): StoredEvent[] {
    const where = ['seq > @after'];
    if (q.pendingOnly) where.push('forwarded = 0');
    if (q.type) where.push('type = @type');
    return this.db
      .prepare(`SELECT seq, id, time, type, device, cls, body, forwarded FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
      .all({ after: q.after ?? 0, limit: q.limit ?? 100, type: q.type ?? '' }) as StoredEvent[];
  }

  stats(): StoreStats {
    // The first row of the partial index of unforwarded rows: one page read, however long the backlog.
    const oldest = this.db.prepare('SELECT time FROM events WHERE forwarded = 0 ORDER BY seq LIMIT 1').get() as { time: string } | undefined;
    return {
      lastSeq: this.lastSeq(),
      depth: this.depth,
      oldestPendingTime: oldest?.time ?? null,
      usedBytes: this.usedBytes(),
      fileBytes: this.fileBytes(),
      maxBytes: this.options.maxBytes,
    };
  }

  /** Bytes in use: live pages of the database plus the write-ahead log. */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize + this.walBytes();
  }

  fileBytes(): number {
    return (existsSync(this.file) ? statSync(this.file).size : 0) + this.walBytes();
  }

  private walBytes(): number {
    return existsSync(`${this.file}-wal`) ? statSync(`${this.file}-wal`).size : 0;
  }

  /**
   * The budget in force: maxBytes, or less when the filesystem would fill first (a card smaller
   * than the budget, or one shared with logs): the journal may grow into the free space only down
   * to a floor of 5 % of the filesystem, at most 32 MB, so it thins before the disk is full, when
   * deleting still works (on a full disk SQLite cannot even delete).
   */
  budgetBytes(): number {
    const fs = statfsSync(dirname(this.file));
    const floor = Math.min(32 * 1024 * 1024, fs.blocks * fs.bsize * 0.05);
    return Math.min(this.options.maxBytes, this.fileBytes() + fs.bavail * fs.bsize - floor);
  }

  /**
   * Makes room when the journal passes `highWater` of its budget (budgetBytes): telemetry first (oldest first,
   * forwarded or not), then forwarded rows of any class. Unforwarded access and safety events
   * are never deleted. Returns how many unforwarded rows were dropped.
   */
  thin(highWater = 0.9, lowWater = 0.75, budget = this.budgetBytes()): ThinResult {
    const result: ThinResult = { dropped: 0, deletedForwarded: 0 };
    if (this.usedBytes() <= budget * highWater) return result;
    const target = budget * lowWater;
    const steps: Array<[string, keyof ThinResult]> = [
      [`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE cls = ${TELEMETRY} AND forwarded = 1 ORDER BY seq LIMIT 500)`, 'deletedForwarded'],
      [`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE cls = ${TELEMETRY} AND forwarded = 0 ORDER BY seq LIMIT 500)`, 'dropped'],
      ['DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE forwarded = 1 ORDER BY seq LIMIT 500)', 'deletedForwarded'],
    ];
    for (const [sql, counter] of steps) {
      while (this.usedBytes() > target) {
        const changes = this.db.prepare(sql).run().changes;
        if (changes === 0) break;
        result[counter] += changes;
        if (counter === 'dropped') this.depth -= changes;
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      }
    }
    return result;
  }

  /** Deletes forwarded rows older than keepForwardedDays; returns how many. */
  retention(): number {
    const cutoff = this.now() - this.options.keepForwardedDays * 86_400_000;
    return this.db.prepare('DELETE FROM events WHERE forwarded = 1 AND journaled_at < ?').run(cutoff).changes;
  }

  close(): void {
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
