/** Messages between the journal (main thread) and its worker. */
import type { JournalRow, StoreOptions, StoreStats, StoredEvent } from './store.js';

/**
 * Row classes: telemetry may be thinned when the disk budget runs out, access events never.
 * Defined here, not in store.ts, so the main thread never loads better-sqlite3.
 */
export const TELEMETRY = 1;
export const ACCESS = 0;

export type ToWorker =
  /** new rows and forwarded marks, committed at once in one transaction */
  | { op: 'write'; rows: JournalRow[]; acks: number[] }
  | { op: 'ackUpTo'; seq: number }
  | { op: 'query'; qid: number; kind: 'pending'; after: number; before: number; limit: number }
  | { op: 'query'; qid: number; kind: 'read'; after?: number; limit?: number; pendingOnly?: boolean; type?: string }
  | { op: 'query'; qid: number; kind: 'stats' }
  | { op: 'close'; qid: number };

export type Condition = 'ok' | 'disk-full' | 'read-only' | 'io-error';

export type FromWorker =
  | { op: 'ready'; lastSeq: number; stats: StoreStats; movedAside?: string }
  | { op: 'failed'; message: string }
  | { op: 'durable'; upTo: number; count: number }
  | { op: 'stats'; stats: StoreStats }
  | { op: 'condition'; condition: Condition; message?: string }
  | { op: 'dropped'; count: number; reason: string }
  | { op: 'pressure'; usedBytes: number; maxBytes: number }
  | { op: 'result'; qid: number; value: JournalRow[] | StoredEvent[] | StoreStats | null }
  | { op: 'error'; qid: number; message: string };

export interface WorkerData {
  file: string;
  options: StoreOptions;
}
