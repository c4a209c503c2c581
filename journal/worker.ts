/**
 * The journal's worker thread. better-sqlite3 is synchronous and an fsync on a Pi's SD card takes
 * 10-100 ms, so the database lives here: nothing on the main thread (actuation, HTTP replies)
 * ever waits behind the disk. Everything that arrives while one batch is being written goes into
 * the next batch: a burst of events costs one transaction and one fsync (group commit).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Condition, FromWorker, ToWorker, WorkerData } from './protocol.js';
import type { JournalRow } from './store.js';
import { JournalStore, TELEMETRY } from './store.js';
import { systemClock } from '../core/clock.js';
import { settleWhenQuiet } from '../core/settle.js';

/** While the disk refuses writes, events wait in memory up to this many; telemetry goes first. */
const MAX_WAITING_ROWS = 200_000;
const RETRY_MS = 1000;
const HOUSEKEEPING_MS = 1000;
const RETENTION_MS = 10 * 60_000;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const { file, options } = workerData as WorkerData;

let store: JournalStore;
try {
  store = new JournalStore(file, options);
} catch (err) {
  post({ op: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
// The backlog's figures from the start: health must not say 0 pending before the first round.
post({ op: 'ready', lastSeq: store.lastSeq(), stats: store.stats(), ...(store.movedAside ? { movedAside: store.movedAside } : {}) });

let rows: JournalRow[] = [];
let acks: number[] = [];
let scheduled = false;
let retryTimer: NodeJS.Timeout | undefined;
let condition: Condition = 'ok';
let lastHousekeeping = Date.now();
let lastRetention = Date.now();
let pressured = false;

function classify(err: unknown): Condition {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(String(err))) return 'disk-full';
  if (code.startsWith('SQLITE_READONLY') || /read-?only/i.test(String(err))) return 'read-only';
  return 'io-error';
}

function setCondition(next: Condition, message?: string): void {
  if (next === condition) return;
  condition = next;
  post({ op: 'condition', condition: next, ...(message ? { message } : {}) });
}

/** Keeps memory bounded while the disk refuses writes: telemetry is dropped first, oldest first. */
function boundWaiting(): void {
  if (rows.length <= MAX_WAITING_ROWS) return;
  const before = rows.length;
  const excess = rows.length - MAX_WAITING_ROWS;
  let telemetryToDrop = excess;
  rows = rows.filter((r) => !(r.cls === TELEMETRY && telemetryToDrop-- > 0));
  if (rows.length > MAX_WAITING_ROWS) rows = rows.slice(rows.length - MAX_WAITING_ROWS);
  post({ op: 'dropped', count: before - rows.length, reason: `journal unwritable (${condition}) and ${MAX_WAITING_ROWS} events waiting` });
}

function housekeeping(force: boolean): void {
  const now = Date.now();
  if (!force && now - lastHousekeeping < HOUSEKEEPING_MS) return;
  lastHousekeeping = now;
  if (now - lastRetention > RETENTION_MS) {
    lastRetention = now;
    store.retention();
  }
  post({ op: 'stats', stats: store.stats() });
}

function flush(): void {
  scheduled = false;
  try {
    if (rows.length) {
      const batch = rows;
      store.append(batch);
      rows = [];
      post({ op: 'durable', upTo: batch[batch.length - 1]!.seq, count: batch.length });
      // The budget is checked after every batch (a few pragmas): a burst must not overrun it.
      const used = store.usedBytes();
      const budget = store.budgetBytes();
      const over = used >= budget * 0.8;
      if (over && !pressured) post({ op: 'pressure', usedBytes: used, maxBytes: Math.round(budget) });
      pressured = over;
      const thinned = store.thin(0.9, 0.75, budget);
      if (thinned.dropped > 0) post({ op: 'dropped', count: thinned.dropped, reason: 'storage budget: oldest telemetry thinned' });
    }
    if (acks.length) {
      store.markForwarded(acks);
      acks = [];
    }
    setCondition('ok');
    housekeeping(false);
  } catch (err) {
    setCondition(classify(err), err instanceof Error ? err.message : String(err));
    boundWaiting();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(schedule, RETRY_MS);
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // setImmediate runs after every message already queued has been taken: one batch for them all.
  setImmediate(flush);
}

// After a burst of writes, once quiet, this thread's heap is given back too (core/settle.ts).
const settler = settleWhenQuiet(systemClock);

// Figures for health and metrics stay fresh on a quiet gateway too.
setInterval(() => {
  if (condition !== 'ok') return;
  try {
    housekeeping(false);
  } catch {
    // reported by the next write
  }
}, HOUSEKEEPING_MS);

port.on('message', (m: ToWorker) => {
  switch (m.op) {
    case 'write':
      // The main thread already held lazy rows back (LAZY_MS): whatever comes is committed now.
      for (const r of m.rows) rows.push(r);
      for (const s of m.acks) acks.push(s);
      settler.busy();
      schedule();
      return;
    case 'ackUpTo':
      flush();
      try {
        store.markForwardedUpTo(m.seq);
      } catch (err) {
        setCondition(classify(err), err instanceof Error ? err.message : String(err));
      }
      return;
    case 'query':
      if (condition === 'ok') flush(); // a reader sees everything appended before it asked
      try {
        const value = m.kind === 'pending' ? store.pending(m.after, m.before, m.limit) : m.kind === 'read' ? store.read(m) : store.stats();
        post({ op: 'result', qid: m.qid, value });
      } catch (err) {
        post({ op: 'error', qid: m.qid, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    case 'close':
      clearTimeout(retryTimer);
      settler.stop();
      try {
        flush();
        store.close();
      } finally {
        post({ op: 'result', qid: m.qid, value: null });
      }
      return;
  }
});
