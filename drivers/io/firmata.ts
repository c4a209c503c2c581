/**
 * An Arduino-class board running StandardFirmata over USB (`type: firmata`), through johnny-five.
 *
 * Isolation: johnny-five brings the `firmata` package and serialport 8 for port auto-detection;
 * neither is ever loaded (or built: its install script is denied in package.json). This driver
 * always hands johnny-five an IO object made here, from the transport-agnostic firmata-io over
 * the same serialport 13 the rest of the gateway uses, and all three are imported only when a
 * site has a firmata board. johnny-five's Board gives the connection lifecycle (ready, timeout,
 * errors); pins go through the Firmata IO it wraps (pinMode, digitalWrite, digitalRead), whose
 * reports arrive as they happen rather than through johnny-five's 20 ms Pin polling timers.
 *
 * A board that is unplugged goes offline (devices report device.fault) and is reconnected every
 * retryMs; its owner re-asserts the outputs when it is back.
 */
import type { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { BoardBase } from './board-base.js';
import type { Level, PinPlan } from './types.js';

/** The part of a Firmata IO object (firmata-io, mock-firmata) this board uses. */
export interface FirmataIo extends EventEmitter {
  pinMode(pin: number, mode: number): void;
  digitalWrite(pin: number, value: number): void;
  digitalRead(pin: number, callback: (value: number) => void): void;
  transport?: { close?: (cb?: () => void) => void; isOpen?: boolean };
}

export type FirmataIoFactory = (port: string, baudRate: number) => FirmataIo | Promise<FirmataIo>;

const MODE_INPUT = 0x00;
const MODE_OUTPUT = 0x01;

/**
 * The real IO: StandardFirmata over serialport 13. The port is opened first, so a port that is
 * not there (an unplugged cable, a wrong path) is this board's error, thrown here, and not an
 * 'error' event that nobody hears yet (it once took the whole gateway down at start).
 */
export async function serialFirmata(port: string, baudRate: number): Promise<FirmataIo> {
  const [{ SerialPort }, firmataIo] = await Promise.all([import('serialport'), import('firmata-io')]);
  const transport = new SerialPort({ path: port, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => transport.open((err) => (err ? reject(err) : resolve())));
  return new firmataIo.default.Firmata(transport) as unknown as FirmataIo;
}

export interface FirmataBoardOptions {
  port: string;
  baudRate: number;
  io?: FirmataIoFactory;
  clock?: Clock;
  /** how long to wait for the board to answer after opening the port (an Uno resets on open) */
  readyTimeoutMs?: number;
  retryMs?: number;
}

export class FirmataBoard extends BoardBase {
  readonly type = 'firmata';
  private readonly clock: Clock;
  private io: FirmataIo | undefined;
  /** johnny-five's Board of the current attempt; forgotten from its registry when the attempt ends */
  private forgetBoard: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  private isClosed = false;

  constructor(
    id: string,
    private readonly options: FirmataBoardOptions,
  ) {
    super(id);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Connects once. A board that does not answer does not stop the gateway: it starts offline, its
   * devices report the fault, and it is retried in the background.
   */
  async open(plan: readonly PinPlan[]): Promise<void> {
    this.planPins(plan);
    await this.connect();
  }

  protected applyLevel(pin: number, value: Level): void {
    if (!this.io) throw new Error(`${this.options.port} is not connected`);
    this.io.digitalWrite(pin, value);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.clock.clearTimeout(this.retryTimer);
    this.detach();
    this.closed();
  }

  private async connect(): Promise<void> {
    let io: FirmataIo | undefined;
    // An error of the IO before the board is ready is this attempt's failure, never an 'error'
    // event without a listener (which would end the process).
    let early: unknown;
    const noteEarly = (err: unknown) => void (early ??= err);
    try {
      io = await (this.options.io ?? serialFirmata)(this.options.port, this.options.baudRate);
      io.on('error', noteEarly);
      await this.whenReady(io, () => early);
      io.off('error', noteEarly);
    } catch (err) {
      io?.removeAllListeners();
      this.forgetBoard?.();
      this.offline(errorMessage(err));
      return;
    }
    if (this.isClosed) return;
    this.io = io;
    for (const [pin, entry] of this.pins) {
      io.pinMode(pin, entry.direction === 'out' ? MODE_OUTPUT : MODE_INPUT);
      if (entry.direction === 'in') io.digitalRead(pin, (value) => this.reported(pin, value ? 1 : 0));
    }
    const lost = (reason: string) => () => {
      if (this.io === io) this.offline(reason);
    };
    io.on('close', lost('serial port closed'));
    io.on('disconnect', lost('board unplugged'));
    io.on('error', (err: unknown) => lost(`serial error: ${errorMessage(err)}`)());
    this.setOnline(true);
  }

  /**
   * johnny-five's Board waits for the IO's "ready" and reports transport errors. Its own timeout
   * starts only once the port says "connect", so a board that never speaks gets ours.
   */
  private async whenReady(io: FirmataIo, early: () => unknown): Promise<void> {
    const five = (await import('johnny-five')).default;
    const before = early();
    if (before !== undefined) throw before instanceof Error ? before : new Error(String(before));
    const timeoutMs = this.options.readyTimeoutMs ?? 10_000;
    let timer: TimerHandle | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = this.clock.setTimeout(() => reject(new Error(`no answer from the board in ${timeoutMs} ms (is StandardFirmata flashed?)`)), timeoutMs);
        const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs });
        // johnny-five keeps every Board forever; a board retried for days must not pile them up.
        this.forgetBoard = () => {
          const i = five.Board.cache.indexOf(board);
          if (i >= 0) five.Board.cache.splice(i, 1);
        };
        board.once('ready', () => resolve());
        board.once('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
        io.once('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
      });
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private offline(reason: string): void {
    this.detach();
    this.setOnline(false, reason);
    if (this.isClosed) return;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => void this.connect(), this.options.retryMs ?? 5000);
  }

  private detach(): void {
    this.forgetBoard?.();
    this.forgetBoard = undefined;
    const io = this.io;
    this.io = undefined;
    if (!io) return;
    io.removeAllListeners();
    try {
      io.transport?.close?.();
    } catch {
      // already gone
    }
  }
}
