/** Messages between the journal (main thread) and its worker. */
import type { JournalRow, StoreOptions, StoreStats, StoredEvent } from './store.js';

export type ToWorker =
  | { op: 'append'; rows: JournalRow[] }
  | { op: 'ack'; seqs: number[] }
  | { op: 'ackUpTo'; seq: number }
  | { op: 'query'; qid: number; kind: 'pending'; after: number; before: number; limit: number }
  | { op: 'query'; qid: number; kind: 'read'; after?: number; limit?: number; pendingOnly?: boolean; type?: string }
  | { op: 'query'; qid: number; kind: 'stats' }
  | { op: 'close'; qid: number };

export type Condition = 'ok' | 'disk-full' | 'read-only' | 'io-error';

export type FromWorker =
  | { op: 'ready'; lastSeq: number; movedAside?: string }
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
