/**
 * The queue in front of a Modbus link: one transaction at a time per bus (modbus-serial does
 * not queue concurrent RTU requests), the inter-frame gap respected, timeouts retried, a unit that
 * stops answering backed off on its own while the others keep their schedule (node-red-contrib-
 * modbus resets its whole queue on one timeout; ThingsBoard's gateway opens the port per slave
 * with no mutex), and a vanished adapter or peer reconnected with jittered exponential backoff.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { BusStats, ModbusBus, ModbusLink, ModbusRequest, ModbusResponse, RequestOptions } from './types.js';
import { LinkError } from './types.js';
import { Dlt645Error } from '../dlt645/frame.js';

export interface BusOptions {
  id: string;
  link: ModbusLink;
  timeoutMs: number;
  retries: number;
  /** silence between frames (t3.5 on RTU, 0 on TCP) */
  gapMs: number;
  /** a logger that already names the bus */
  log: Logger;
  clock?: Clock;
  /** first back-off of a unit that stopped answering, doubled per failed probe up to unitBackoffMaxMs */
  unitBackoffMs?: number;
  unitBackoffMaxMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  random?: () => number;
}

interface Job {
  /** what is backed off when it stops answering: a Modbus unit, or a DL/T 645 meter address */
  key: number | string;
  /** names it in errors: "unit 7", "meter 000012345678" */
  who: string;
  /** names the request in errors: "FC3 at 0" */
  what: string;
  attempt: (timeoutMs: number) => Promise<unknown>;
  resolve: (r: never) => void;
  reject: (e: unknown) => void;
}

type LinkState = 'idle' | 'connecting' | 'online' | 'backoff' | 'stopping';

/** Errors that mean the adapter or TCP peer is gone, not that one frame was bad. */
export class QueuedModbusBus implements ModbusBus {
  readonly id: string;
  private state: LinkState = 'idle';
  private readonly high: Job[] = [];
  private readonly normal: Job[] = [];
  private running = false;
  private lastFrameEnd = Number.NEGATIVE_INFINITY;
  private readonly units = new Map<number | string, { failures: number; until: number }>();
  private readonly statusListeners = new Set<(s: { connected: boolean; reason?: string }) => void>();
  private reported: boolean | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectAttempts = 0;
  private readonly counters: BusStats = { transactions: 0, timeouts: 0, badFrames: 0, exceptions: 0, backedOff: 0, reconnects: 0 };
  private readonly clock: Clock;

  constructor(private readonly o: BusOptions) {
    this.id = o.id;
    this.clock = o.clock ?? systemClock;
    o.link.onClose((reason) => this.lost(reason));
  }

  get connected(): boolean {
    return this.state === 'online';
  }

  /** Connects once; a bus that is not there yet is retried in the background, never fatal. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.connect();
  }

  request(unit: number, req: ModbusRequest, options: RequestOptions = {}): Promise<ModbusResponse> {
    return this.enqueue<ModbusResponse>(
      { key: unit, who: `unit ${unit}`, what: `FC${req.fc} at ${req.address}`, attempt: (timeoutMs) => this.o.link.transact(unit, req, timeoutMs) },
      options,
    );
  }

  exchange<T>(
    device: { key: string; who: string; what: string },
    request: Buffer,
    take: (received: Buffer) => T | undefined,
    options: RequestOptions = {},
  ): Promise<T> {
    const link = this.o.link;
    if (!link.exchange) return Promise.reject(new GatewayError('NOT_SUPPORTED', `bus ${this.id} cannot carry raw frames`, { bus: this.id }));
    return this.enqueue<T>({ ...device, attempt: (timeoutMs) => link.exchange!(request, take, timeoutMs) }, options);
  }

  private enqueue<T>(job: Omit<Job, 'resolve' | 'reject'>, options: RequestOptions): Promise<T> {
    if (this.state === 'stopping') return Promise.reject(new GatewayError('BUS_CLOSED', `bus ${this.id} is closed`));
    if (this.state !== 'online') return Promise.reject(this.disconnectedError());
    const backoff = this.backoffError(job.key, job.who);
    if (backoff) return Promise.reject(backoff);
    return new Promise<T>((resolve, reject) => {
      (options.priority === 'high' ? this.high : this.normal).push({ ...job, resolve: resolve as (r: never) => void, reject });
      void this.pump();
    });
  }

  onStatus(listener: (s: { connected: boolean; reason?: string }) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  stats(): BusStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.state = 'stopping';
    this.clock.clearTimeout(this.reconnectTimer);
    this.failQueued(new GatewayError('BUS_CLOSED', `bus ${this.id} is closed`));
    await this.o.link.close();
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    try {
      await this.o.link.connect();
    } catch (err) {
      if ((this.state as LinkState) === 'stopping') return; // closed while connecting
      this.o.log.warn({ err: errorMessage(err) }, 'bus not reachable; retrying');
      this.emitStatus(false, errorMessage(err));
      this.scheduleReconnect();
      return;
    }
    if ((this.state as LinkState) !== 'connecting') return void this.o.link.close(); // closed meanwhile
    this.state = 'online';
    this.reconnectAttempts = 0;
    this.emitStatus(true);
  }

  private lost(reason: string): void {
    if (this.state !== 'online') return;
    this.o.log.error({ reason }, 'bus lost');
    this.failQueued(this.disconnectedError(reason));
    this.emitStatus(false, reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.state = 'backoff';
    const min = this.o.reconnectMinMs ?? 1000;
    const max = this.o.reconnectMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** this.reconnectAttempts++);
    const wait = base / 2 + (this.o.random ?? Math.random)() * (base / 2); // "equal jitter"
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.counters.reconnects++;
      void this.connect();
    }, wait);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.next(); job; job = this.next()) {
        // Queued behind a unit that has just stopped answering: fail fast, keep the wire free.
        const backoff = this.backoffError(job.key, job.who);
        if (backoff) {
          job.reject(backoff);
          continue;
        }
        if (this.state !== 'online') {
          job.reject(this.disconnectedError());
          continue;
        }
        await this.run(job);
      }
    } finally {
      this.running = false;
    }
  }

  private next(): Job | undefined {
    return this.high.shift() ?? this.normal.shift();
  }

  private async run(job: Job): Promise<void> {
    const unitState = this.units.get(job.key);
    // A probe after a back-off gets the full retries too: a unit (or a TCP gateway) coming back
    // often drops its first frame, and a single-shot probe would double the back-off for nothing.
    const attempts = this.o.retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.gap();
      this.counters.transactions++;
      try {
        const response = await job.attempt(this.o.timeoutMs);
        this.lastFrameEnd = this.clock.now();
        this.units.delete(job.key);
        job.resolve(response as never);
        return;
      } catch (err) {
        this.lastFrameEnd = this.clock.now();
        if (err instanceof Dlt645Error) {
          this.counters.exceptions++;
          this.units.delete(job.key); // it answered: it is alive
          job.reject(
            new GatewayError('DLT645_REFUSED', `bus ${this.id} ${job.who}: ${err.message}`, { bus: this.id, meter: job.key, error: err.errorCode ?? null }),
          );
          return;
        }
        const kind = err instanceof LinkError ? err.kind : this.o.link.isOpen ? 'bad-frame' : 'gone';
        if (kind === 'exception') {
          const code = (err as LinkError).exception;
          this.counters.exceptions++;
          this.units.delete(job.key); // it answered: it is alive
          job.reject(
            new GatewayError('MODBUS_EXCEPTION', `bus ${this.id} ${job.who}: exception ${code} for ${job.what}`, {
              bus: this.id,
              unit: job.key,
              exception: code,
            }),
          );
          return;
        }
        if (kind === 'gone' || !this.o.link.isOpen) {
          job.reject(this.disconnectedError(errorMessage(err)));
          this.lost(errorMessage(err));
          return;
        }
        // A timeout, or a frame spoiled on the line (CRC, length, stray bytes): try again.
        if (kind === 'timeout') this.counters.timeouts++;
        else this.counters.badFrames++;
      }
    }
    const failures = (unitState?.failures ?? 0) + 1;
    const min = this.o.unitBackoffMs ?? 5000;
    const wait = Math.min(this.o.unitBackoffMaxMs ?? 300_000, min * 2 ** (failures - 1));
    this.units.set(job.key, { failures, until: this.clock.now() + wait });
    job.reject(
      new GatewayError('MODBUS_TIMEOUT', `bus ${this.id} ${job.who}: no answer after ${attempts} attempt(s) of ${this.o.timeoutMs} ms`, {
        bus: this.id,
        unit: job.key,
        backoffMs: wait,
      }),
    );
  }

  private gap(): Promise<void> {
    const wait = this.lastFrameEnd + this.o.gapMs - this.clock.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => this.clock.setTimeout(resolve, wait));
  }

  private backoffError(key: number | string, who: string): GatewayError | undefined {
    const u = this.units.get(key);
    if (!u || u.until <= this.clock.now()) return undefined;
    this.counters.backedOff++;
    return new GatewayError('MODBUS_UNIT_BACKOFF', `bus ${this.id} ${who} is not answering; next try in ${u.until - this.clock.now()} ms`, {
      bus: this.id,
      unit: key,
    });
  }

  private disconnectedError(reason?: string): GatewayError {
    return new GatewayError('SERIAL_DISCONNECTED', `bus ${this.id} is not connected${reason ? `: ${reason}` : ''}`, { bus: this.id });
  }

  private failQueued(err: GatewayError): void {
    for (const job of this.high.splice(0).concat(this.normal.splice(0))) job.reject(err);
  }

  /** Changes only: a reconnect attempt that finds the adapter still gone reports nothing new. */
  private emitStatus(connected: boolean, reason?: string): void {
    if (connected === this.reported) return;
    this.reported = connected;
    for (const listener of this.statusListeners) listener(connected ? { connected } : { connected, reason });
  }
}
