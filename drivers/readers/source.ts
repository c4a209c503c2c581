/**
 * Opens a reader's device and hands on what it reads: a serial port (serialport 13, as the meters
 * use) or a keyboard-mode reader's input event device. A device that is missing or goes away
 * (a USB reader unplugged) is reported and opened again every few seconds.
 */
import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { FrameSplitter } from './frames.js';
import { KeyboardDecoder } from './keyboard.js';

export const REOPEN_MS = 5000;

export interface ReaderSink {
  text(text: string): void;
  bad(reason: 'too-long' | 'not-text', bytes: number): void;
  /** the device opened (online) or could not be opened / went away (with the reason) */
  status(online: boolean, reason?: string): void;
}

export interface ReaderSource {
  start(): void;
  stop(): void;
}

export type ReaderDevice = { port: string; baudRate: number } | { keyboard: string };

export function openReader(device: ReaderDevice, sink: ReaderSink, clock: Clock): ReaderSource {
  return 'port' in device ? new SerialReader(device, sink, clock) : new KeyboardReader(device.keyboard, sink, clock);
}

/** Told whether a device opened (online) or could not be opened / went away (with the reason). */
export interface StatusSink {
  status(online: boolean, reason?: string): void;
}

/**
 * A device that is opened, and opened again every REOPEN_MS after it could not be or went away
 * (a reader, a lane screen on a USB-RS485 adapter).
 */
export abstract class Reopening<S extends StatusSink = ReaderSink> implements ReaderSource {
  private retry: TimerHandle | undefined;
  protected stopped = true;

  constructor(
    protected readonly sink: S,
    protected readonly clock: Clock,
  ) {}

  start(): void {
    this.stopped = false;
    void this.attempt();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.retry);
    this.close();
  }

  protected abstract open(): Promise<void>;
  protected abstract close(): void;

  /** The device went away or could not be opened: say so, try again later. */
  protected lost(reason: string): void {
    this.close();
    if (this.stopped) return;
    this.sink.status(false, reason);
    this.clock.clearTimeout(this.retry);
    this.retry = this.clock.setTimeout(() => void this.attempt(), REOPEN_MS);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.open();
      if (this.stopped) this.close();
      else this.sink.status(true);
    } catch (err) {
      this.lost(errorMessage(err));
    }
  }
}

class SerialReader extends Reopening {
  private port: { close(cb?: () => void): void; isOpen: boolean } | undefined;
  private readonly frames: FrameSplitter;

  constructor(
    private readonly device: { port: string; baudRate: number },
    sink: ReaderSink,
    clock: Clock,
  ) {
    super(sink, clock);
    this.frames = new FrameSplitter(sink, clock);
  }

  protected async open(): Promise<void> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.device.port, baudRate: this.device.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    port.on('data', (chunk: Buffer) => this.frames.push(chunk));
    port.on('close', () => this.port === port && this.lost(`${this.device.port} closed`));
    port.on('error', (err: Error) => this.port === port && this.lost(err.message));
  }

  protected close(): void {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) port.close();
  }
}

class KeyboardReader extends Reopening {
  private stream: ReadStream | undefined;

  constructor(
    private readonly path: string,
    sink: ReaderSink,
    clock: Clock,
  ) {
    super(sink, clock);
  }

  protected async open(): Promise<void> {
    const decoder = new KeyboardDecoder((line) => this.sink.text(line));
    const stream = createReadStream(this.path, { highWaterMark: 24 * 64 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    this.stream = stream;
    stream.on('data', (chunk) => decoder.push(chunk as Buffer));
    stream.on('error', (err) => this.stream === stream && this.lost(err.message));
    stream.on('end', () => this.stream === stream && this.lost(`${this.path} ended`));
  }

  protected close(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.destroy();
  }
}
