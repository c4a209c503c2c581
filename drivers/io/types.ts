/**
 * The digital I/O board: every board kind (Pi GPIO, Firmata, Modbus relay, sim) implements this
 * and nothing else is known about it outside its own file.
 *
 * Levels here are electrical (raw): 1 = driven / contact reads high. `activeLow` inversion and
 * debouncing are applied in one place above this interface, in drivers/io/pin.ts.
 *
 * Semantics:
 * - `open(plan)` connects and configures every pin the site uses; it resolves once `read` and
 *   `write` work. A board that cannot open rejects with BOARD_OFFLINE (retryable).
 * - `read(pin)` returns the last known level without blocking (boards that poll return the
 *   last polled value). It throws PIN_UNKNOWN for a pin not in the plan.
 * - `write(pin, value)` applies the level as soon as the hardware allows; for local boards the
 *   level is set before it returns. The returned promise settles when the board confirmed it;
 *   callers on the actuation path do not wait for it. Writing an input pin throws PIN_DIRECTION.
 * - `watch(pin, listener)` reports every raw level change of an input, no debounce; it returns
 *   the function that stops watching.
 * - `onStatus(listener)` reports the board going offline and coming back; a board that comes
 *   back has its outputs re-asserted by its owner.
 * - `close()` releases the hardware; outputs keep their last level where the hardware does.
 */
import type { PinDirection } from '../../schema/sections.js';

export type Level = 0 | 1;

export interface PinPlan {
  pin: number;
  direction: PinDirection;
}

export interface BoardStatus {
  online: boolean;
  /** why the board went offline */
  reason?: string;
}

export interface DigitalIo {
  readonly id: string;
  readonly type: string;
  readonly online: boolean;
  open(plan: readonly PinPlan[]): Promise<void>;
  read(pin: number): Level;
  write(pin: number, value: Level): Promise<void>;
  watch(pin: number, listener: (value: Level) => void): () => void;
  onStatus(listener: (status: BoardStatus) => void): () => void;
  close(): Promise<void>;
  /** For boards with a loop of their own (polled relay boards): whether it still makes progress. */
  alive?(now: number): boolean;
  /** Why it is offline, when it is (also for a board that went offline before anyone listened). */
  readonly offlineReason?: string | undefined;
  /** Simulated boards only: sets an input as if the wire had changed (the installer's I/O page). */
  setInput?(pin: number, value: Level): void;
}
