/**
 * A lane screen on a serial port of the gateway (a USB-RS485 adapter wired to the screen): frames
 * go out one at a time and each waits for the screen's answer (`DA 64 FF FF CMD 01 ACK CRC`). A
 * port that is missing or goes away is reported and opened again every few seconds (like a
 * reader's); a screen that stops answering is reported as silent after two frames in a row go
 * unanswered, and as back as soon as it answers again. Nothing here ever waits on the lane: the
 * lane has opened before a frame is queued.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { StatusSink } from '../readers/source.js';
import { Reopening } from '../readers/source.js';
import { ackOf, readFrames } from './frames.js';

/** How long the screen has to answer a frame. */
export const ACK_TIMEOUT_MS = 500;
/** Frames in a row without an answer before the screen is called silent. */
export const SILENT_AFTER = 2;
/** Frames waiting beyond this are dropped, oldest first (a lane's news is what matters). */
export const MAX_QUEUE = 16;

export interface ScreenSink extends StatusSink {
  /** the screen answered (true) or stopped answering (false) */
  answering(yes: boolean): void;
}

type PortLike = { write(b: Buffer): boolean; close(cb?: () => void): void; isOpen: boolean; on(e: string, f: (...a: never[]) => void): unknown };

export class SerialScreen extends Reopening<ScreenSink> {
  private port: PortLike | undefined;
  private readonly queue: Buffer[] = [];
  private inFlight: { timer: TimerHandle } | undefined;
  private received: Buffer = Buffer.alloc(0);
  private unanswered = 0;
  readonly counts = { sent: 0, answered: 0, unanswered: 0, dropped: 0, nak: 0 };

  constructor(
    private readonly device: { port: string; baudRate: number },
    sink: ScreenSink,
    clock: Clock,
  ) {
    super(sink, clock);
  }

  /** Queues frames for the screen; returns at once. */
  send(frames: readonly Buffer[]): void {
    this.queue.push(...frames);
    while (this.queue.length > MAX_QUEUE) {
      this.queue.shift();
      this.counts.dropped++;
    }
    this.next();
  }

  protected async open(): Promise<void> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.device.port, baudRate: this.device.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port as unknown as PortLike;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', () => this.port === (port as unknown as PortLike) && this.lost(`${this.device.port} closed`));
    port.on('error', (err: Error) => this.port === (port as unknown as PortLike) && this.lost(err.message));
    this.next();
  }

  protected close(): void {
    const port = this.port;
    this.port = undefined;
    if (this.inFlight) this.clock.clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
    if (port?.isOpen) port.close();
  }

  private next(): void {
    if (this.inFlight || !this.port) return;
    const frame = this.queue.shift();
    if (!frame) return;
    this.port.write(frame);
    this.counts.sent++;
    this.inFlight = { timer: this.clock.setTimeout(() => this.settle(false), ACK_TIMEOUT_MS) };
  }

  private onData(chunk: Buffer): void {
    // bounded: a line spewing garbage never grows this past a few frames
    this.received = Buffer.concat([this.received, chunk]).subarray(-1024);
    const { frames, rest } = readFrames(this.received);
    this.received = rest;
    for (const f of frames) {
      if ((ackOf(f) ?? 0) !== 0) this.counts.nak++;
      this.settle(true);
    }
  }

  private settle(answered: boolean): void {
    if (!this.inFlight) return;
    this.clock.clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
    if (answered) {
      this.counts.answered++;
      if (this.unanswered >= SILENT_AFTER) this.sink.answering(true);
      this.unanswered = 0;
    } else {
      this.counts.unanswered++;
      if (++this.unanswered === SILENT_AFTER) this.sink.answering(false);
    }
    this.next();
  }
}
