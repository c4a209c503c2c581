/**
 * The journal as the rest of the gateway sees it: `append` gives an event its gapless `seq` at
 * once and returns without touching the disk; the worker makes it durable in the next batch.
 * Readers (the uplink's backlog drain, the API, the CLI) ask the worker and get promises.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GatewayError } from '../core/errors.js';
import type { GatewayEvent, JournaledEvent } from '../core/events.js';
import { packagePath } from '../core/paths.js';
import type { Condition, FromWorker, ToWorker, WorkerData } from './protocol.js';
import type { JournalRow, StoreStats, StoredEvent } from './store.js';
import { ACCESS, TELEMETRY } from './protocol.js';

type Ready = Extract<FromWorker, { op: 'ready' }>;

export const JOURNAL_FILE = 'journal.db';

/** Set by scripts/bundle.mjs in the shipped bundle: the worker's path below the package root. */
declare const ESTATE_GATEWAY_BUNDLED_WORKER: string | undefined;
const workerScript = () =>
  typeof ESTATE_GATEWAY_BUNDLED_WORKER === 'string' ? packagePath(ESTATE_GATEWAY_BUNDLED_WORKER) : packagePath('dist', 'journal', 'worker.js');
export const TELEMETRY_TYPES: ReadonlySet<string> = new Set(['meter.reading']);

/**
 * Telemetry and acknowledgements alone go to the worker (and so to disk) at most once per
 * LAZY_MS: a bus of meters read every second costs one message, one transaction and one fsync
 * a second, not one per reading. Anything else (access and safety events) goes at once, and
 * takes whatever telemetry waits along with it. The first telemetry after a quiet spell goes at
 * once too, so a reading is never held longer than LAZY_MS.
 */
export const LAZY_MS = 1000;

/**
 * How long an acknowledgement waits for its commit before it is sent anyway (the event counted
 * at risk). A commit takes milliseconds; this only bounds a worker that stopped answering.
 */
export const COMMIT_WAIT_MS = 2000;

export interface JournalOptions {
  dataDir: string;
  maxBytes: number;
  keepForwardedDays: number;
  /** the clock its batching windows and waits run on (tests drive a ManualClock); default the system's */
  clock?: Clock;
}

export interface JournalHooks {
  /** the worker dropped events (budget, or memory while the disk refuses writes) */
  dropped?(count: number, reason: string): void;
  /** the journal passed 80 % of its budget */
  pressure?(usedBytes: number, maxBytes: number): void;
  /** the disk stopped (or resumed) taking writes */
  condition?(condition: Condition, message?: string): void;
}

export function rowOf(event: JournaledEvent): JournalRow {
  const { historical: _historical, ...envelope } = event;
  return {
    seq: event.seq,
    id: event.id,
    time: event.time,
    type: event.type,
    device: event.device,
    cls: TELEMETRY_TYPES.has(event.type) ? TELEMETRY : ACCESS,
    body: JSON.stringify(envelope),
  };
}

export function eventOf(row: Pick<JournalRow, 'body'>, historical = false): JournaledEvent {
  return { ...(JSON.parse(row.body) as Omit<JournaledEvent, 'historical'>), historical };
}

export class Journal {
  private lastSeq: number;
  private outgoing: JournalRow[] = [];
  private outgoingAcks: number[] = [];
  private postScheduled = false;
  private lazyTimer: TimerHandle | undefined;
  private lazyDueAt = Number.POSITIVE_INFINITY;
  /** when telemetry last went to the worker */
  private lastTelemetryPostAt = Number.NEGATIVE_INFINITY;
  private telemetryWaiting = false;
  private qid = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly appendListeners = new Set<(event: JournaledEvent, body: string) => void>();
  private readonly durableListeners = new Set<(upTo: number) => void>();
  /** replies waiting for their events to reach the disk, in seq order */
  private commitWaiters: Array<{ seq: number; done: (durable: boolean) => void }> = [];
  private latest: StoreStats | undefined;
  private durableSeq: number;
  private state: Condition = 'ok';
  private closed = false;
  /** transactions (fsyncs) the worker has committed: many events per batch is the point */
  batches = 0;

  private constructor(
    private readonly worker: Worker,
    ready: Ready,
    private readonly hooks: JournalHooks,
    readonly file: string,
    private readonly clock: Clock,
  ) {
    this.lastSeq = ready.lastSeq;
    this.durableSeq = ready.lastSeq;
    this.lastDurableAt = clock.now();
    this.movedAside = ready.movedAside;
    this.latest = ready.stats;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** Set when a corrupt journal file was moved aside on open. */
  readonly movedAside: string | undefined;

  static async open(options: JournalOptions, hooks: JournalHooks = {}): Promise<Journal> {
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(options.dataDir, JOURNAL_FILE);
    const script = workerScript();
    if (!existsSync(script)) throw new GatewayError('INTERNAL', `journal worker ${script} is missing; run npm run build`);
    const data: WorkerData = { file, options: { maxBytes: options.maxBytes, keepForwardedDays: options.keepForwardedDays } };
    const worker = new Worker(script, { workerData: data });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.op === 'ready') resolve(m);
        else if (m.op === 'failed') reject(new GatewayError('JOURNAL_UNAVAILABLE', `journal ${file}: ${m.message}`, { file }));
      };
      worker.once('message', onMessage);
      worker.once('error', (err) => reject(new GatewayError('JOURNAL_UNAVAILABLE', `journal ${file}: ${err.message}`, { file })));
    });
    return new Journal(worker, ready, hooks, file, options.clock ?? systemClock);
  }

  /** Gives the event its seq and queues it for the disk; never waits. */
  append(event: GatewayEvent): JournaledEvent {
    if (this.closed) throw new GatewayError('INTERNAL', 'journal is closed');
    const journaled: JournaledEvent = { ...event, seq: ++this.lastSeq, historical: false };
    const row = rowOf(journaled);
    this.outgoing.push(row);
    this.schedulePost(row.cls === TELEMETRY ? 'telemetry' : 'urgent');
    for (const listener of this.appendListeners) listener(journaled, row.body);
    return journaled;
  }

  private lastDurableAt: number;

  /**
   * Whether the worker still commits: nothing waits, or a commit came recently. A full or
   * read-only disk is a reported condition, not a hung worker.
   */
  alive(now = this.clock.now()): boolean {
    if (this.closed || this.durableSeq >= this.lastSeq || this.condition !== 'ok') return true;
    return now - this.lastDurableAt <= 60_000;
  }

  /**
   * Resolves once every event appended so far (or up to `seq`) is committed to disk: true.
   * An acknowledgement (a camera's 200, a command's reply) waits for this, so what was answered
   * "ok" survives a power cut a moment later; concurrent waiters share the worker's one
   * transaction (group commit). Never holds a reply for a disk that refuses writes: false at
   * once when the journal's condition is not ok, or after `timeoutMs` without a commit (the
   * event is then at risk, and the caller counts it).
   */
  committed(seq = this.lastSeq, timeoutMs = COMMIT_WAIT_MS): Promise<boolean> {
    if (this.closed || seq <= this.durableSeq) return Promise.resolve(this.closed ? seq <= this.durableSeq : true);
    if (this.state !== 'ok') return Promise.resolve(false);
    // Telemetry waiting for its once-a-second post goes now: a reply must not wait for it.
    if (this.outgoing.length > 0) this.schedulePost('urgent');
    return new Promise<boolean>((resolve) => {
      // Real time, not the journal's clock: this bounds how long a disk may take to answer.
      const timer = systemClock.setTimeout(() => finish(false), timeoutMs);
      const finish = (durable: boolean) => {
        systemClock.clearTimeout(timer);
        this.commitWaiters = this.commitWaiters.filter((w) => w !== waiter);
        resolve(durable);
      };
      const waiter = { seq, done: finish };
      this.commitWaiters.push(waiter);
    });
  }

  /** Hears each commit: every seq up to `upTo` is on disk. */
  onDurable(listener: (upTo: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  /** Hears each append, with the envelope's JSON as journaled (`historical` left out). */
  onAppend(listener: (event: JournaledEvent, body: string) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Marks events forwarded (after the broker's PUBACK). */
  ack(seqs: readonly number[]): void {
    if (this.closed) return;
    for (const s of seqs) this.outgoingAcks.push(s);
    this.schedulePost('ack');
  }

  /** Marks every event up to `seq` forwarded (a gateway without an uplink). */
  ackUpTo(seq: number): void {
    if (this.closed) return;
    this.postNow();
    this.worker.postMessage({ op: 'ackUpTo', seq } satisfies ToWorker);
  }

  /** Unforwarded events with after < seq < before, in seq order. */
  async pending(after: number, before: number, limit: number): Promise<JournaledEvent[]> {
    const rows = (await this.query({ kind: 'pending', after, before, limit })) as JournalRow[];
    return rows.map((r) => eventOf(r));
  }

  /** The same, as stored rows (the uplink sends their JSON without parsing it). */
  async pendingRows(after: number, before: number, limit: number): Promise<JournalRow[]> {
    return (await this.query({ kind: 'pending', after, before, limit })) as JournalRow[];
  }

  async read(q: { after?: number; limit?: number; pendingOnly?: boolean; type?: string }): Promise<Array<JournaledEvent & { forwarded: boolean }>> {
    const rows = (await this.query({ kind: 'read', ...q })) as StoredEvent[];
    return rows.map((r) => ({ ...eventOf(r), forwarded: r.forwarded === 1 }));
  }

  async stats(): Promise<StoreStats> {
    this.latest = (await this.query({ kind: 'stats' })) as StoreStats;
    return this.latest;
  }

  /** The figures of the last housekeeping round (at most a second old), for health and metrics. */
  get lastStats(): StoreStats | undefined {
    return this.latest;
  }

  get seq(): number {
    return this.lastSeq;
  }

  get durable(): number {
    return this.durableSeq;
  }

  get condition(): Condition {
    return this.state;
  }

  /** Writes what is queued and closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.postNow();
    this.closed = true;
    this.clock.clearTimeout(this.lazyTimer);
    const qid = ++this.qid;
    const done = new Promise((resolve, reject) => this.waiting.set(qid, { resolve, reject }));
    this.worker.postMessage({ op: 'close', qid } satisfies ToWorker);
    await done;
    for (const w of [...this.commitWaiters]) w.done(w.seq <= this.durableSeq);
    await this.worker.terminate();
  }

  private query(q: Record<string, unknown> & { kind: string }): Promise<unknown> {
    if (this.closed) return Promise.reject(new GatewayError('INTERNAL', 'journal is closed'));
    this.postNow();
    const qid = ++this.qid;
    const answer = new Promise((resolve, reject) => this.waiting.set(qid, { resolve, reject }));
    this.worker.postMessage({ op: 'query', qid, ...q } as ToWorker);
    return answer;
  }

  /**
   * Urgent rows go after this turn of the event loop. Telemetry goes at most once per LAZY_MS
   * (at once after a quiet spell); acknowledgements alone wait up to LAZY_MS for company. A post
   * takes everything waiting, whatever caused it.
   */
  private schedulePost(kind: 'urgent' | 'telemetry' | 'ack'): void {
    if (kind === 'telemetry') this.telemetryWaiting = true;
    if (this.postScheduled) return;
    const now = this.clock.now();
    const dueAt = kind === 'urgent' ? now : kind === 'telemetry' ? this.lastTelemetryPostAt + LAZY_MS : now + LAZY_MS;
    if (dueAt > now) {
      if (dueAt >= this.lazyDueAt) return; // an earlier post is already due
      this.clock.clearTimeout(this.lazyTimer);
      this.lazyDueAt = dueAt;
      this.lazyTimer = this.clock.setTimeout(() => this.postNow(), dueAt - now);
      return;
    }
    this.postScheduled = true;
    // Everything appended in this turn of the event loop goes to the worker as one message.
    setImmediate(() => this.postNow());
  }

  private postNow(): void {
    this.postScheduled = false;
    this.clock.clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    this.lazyDueAt = Number.POSITIVE_INFINITY;
    if (this.outgoing.length === 0 && this.outgoingAcks.length === 0) return;
    this.worker.postMessage({ op: 'write', rows: this.outgoing, acks: this.outgoingAcks } satisfies ToWorker);
    this.outgoing = [];
    this.outgoingAcks = [];
    if (this.telemetryWaiting) this.lastTelemetryPostAt = this.clock.now();
    this.telemetryWaiting = false;
  }

  private onMessage(m: FromWorker): void {
    switch (m.op) {
      case 'durable':
        this.durableSeq = m.upTo;
        this.lastDurableAt = this.clock.now();
        this.batches++;
        for (const listener of this.durableListeners) listener(m.upTo);
        for (const w of this.commitWaiters.filter((w) => w.seq <= m.upTo)) w.done(true);
        return;
      case 'stats':
        this.latest = m.stats;
        return;
      case 'condition':
        this.state = m.condition;
        if (m.condition !== 'ok') for (const w of [...this.commitWaiters]) w.done(false);
        this.hooks.condition?.(m.condition, m.message);
        return;
      case 'dropped':
        this.hooks.dropped?.(m.count, m.reason);
        return;
      case 'pressure':
        this.hooks.pressure?.(m.usedBytes, m.maxBytes);
        return;
      case 'result':
      case 'error': {
        const w = this.waiting.get(m.qid);
        this.waiting.delete(m.qid);
        if (m.op === 'result') w?.resolve(m.value);
        else w?.reject(new GatewayError('INTERNAL', `journal query failed: ${m.message}`));
        return;
      }
      default:
        return;
    }
  }
}
