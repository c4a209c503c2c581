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
import type { PinDirection } from '../../config/pins.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from './types.js';

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

/** The real IO: StandardFirmata over serialport 13. */
export async function serialFirmata(port: string, baudRate: number): Promise<FirmataIo> {
  const [{ SerialPort }, firmataIo] = await Promise.all([import('serialport'), import('firmata-io')]);
  const transport = new SerialPort({ path: port, baudRate });
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

export class FirmataBoard implements DigitalIo {
  readonly type = 'firmata';
  private readonly pins = new Map<number, { direction: PinDirection; value: Level }>();
  private readonly watchers = new Map<number, Set<(value: Level) => void>>();
  private readonly statusListeners = new Set<(status: BoardStatus) => void>();
  private readonly clock: Clock;
  private io: FirmataIo | undefined;
  /** johnny-five's Board of the current attempt; forgotten from its registry when the attempt ends */
  private forgetBoard: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  private closed = false;
  private isOnline = false;

  constructor(
    readonly id: string,
    private readonly options: FirmataBoardOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  get online(): boolean {
    return this.isOnline;
  }

  /**
   * Connects once. A board that does not answer does not stop the gateway: it starts offline, its
   * devices report the fault, and it is retried in the background.
   */
  async open(plan: readonly PinPlan[]): Promise<void> {
    for (const { pin, direction } of plan) this.pins.set(pin, { direction, value: 0 });
    await this.connect();
  }

  read(pin: number): Level {
    return this.entry(pin).value;
  }

  write(pin: number, value: Level): Promise<void> {
    const entry = this.entry(pin);
    if (entry.direction !== 'out') throw new GatewayError('PIN_DIRECTION', `firmata board ${this.id}: pin ${pin} is an input`, { pin });
    entry.value = value;
    if (!this.isOnline || !this.io) {
      return Promise.reject(new GatewayError('BOARD_OFFLINE', `firmata board ${this.id} (${this.options.port}) is offline`));
    }
    try {
      this.io.digitalWrite(pin, value);
    } catch (err) {
      return Promise.reject(new GatewayError('BOARD_OFFLINE', `firmata board ${this.id}: write failed: ${errorMessage(err)}`));
    }
    return Promise.resolve();
  }

  watch(pin: number, listener: (value: Level) => void): () => void {
    this.entry(pin);
    const set = this.watchers.get(pin) ?? new Set();
    set.add(listener);
    this.watchers.set(pin, set);
    return () => set.delete(listener);
  }

  onStatus(listener: (status: BoardStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    this.detach();
    this.isOnline = false;
  }

  private async connect(): Promise<void> {
    let io: FirmataIo | undefined;
    try {
      io = await (this.options.io ?? serialFirmata)(this.options.port, this.options.baudRate);
      await this.whenReady(io);
    } catch (err) {
      io?.removeAllListeners();
      this.forgetBoard?.();
      this.offline(errorMessage(err));
      return;
    }
    if (this.closed) return;
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
  private async whenReady(io: FirmataIo): Promise<void> {
    const five = (await import('johnny-five')).default;
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
      });
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private reported(pin: number, value: Level): void {
    const entry = this.pins.get(pin);
    if (!entry || entry.value === value) return;
    entry.value = value;
    for (const listener of this.watchers.get(pin) ?? []) listener(value);
  }

  private offline(reason: string): void {
    this.detach();
    this.setOnline(false, reason);
    if (this.closed) return;
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

  private setOnline(online: boolean, reason?: string): void {
    if (online === this.isOnline) return;
    this.isOnline = online;
    for (const listener of this.statusListeners) listener(online ? { online } : { online, reason: reason ?? 'offline' });
  }

  private entry(pin: number) {
    const entry = this.pins.get(pin);
    if (!entry) throw new GatewayError('PIN_UNKNOWN', `firmata board ${this.id}: pin ${pin} is not used by any device`, { pin });
    return entry;
  }
}
