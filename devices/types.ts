/**
 * What the rest of the gateway knows of a device: its safe state, its commands and a snapshot of
 * its state. Each device kind lives in its own file and gets everything it uses passed in.
 */
import type { LaneDisplay } from './lane-display.js';
import type { CredentialData } from '../core/events.js';
import type { PinRef } from '../schema/sections.js';
import type { InputPin, OutputPin } from '../drivers/io/pin.js';
import type { Clock } from '../core/clock.js';
import type { EventData, EventType } from '../core/events.js';
import type { Logger } from '../core/log.js';

export type DeviceAction = 'open' | 'close';

export interface CommandContext {
  by: 'console' | 'remote' | 'camera' | 'schedule' | 'qr' | 'card';
  user?: string;
  /** a door opened by a credential at a reader: who it was (recorded on door.unlocked) */
  credential?: CredentialData;
}

export type CommandRefusal = 'unsafe' | 'fire-alarm' | 'not-supported' | 'offline';
export type CommandResult = { ok: true } | { ok: false; error: CommandRefusal; message: string };
/** A device's answer to an output set by hand: refused, allowed as asked, or done as its own command. */
export type DriveAnswer = CommandResult | { ok: true; asCommand: DeviceAction };

export interface DeviceSnapshot {
  id: string;
  /** its kind (devices/kinds.ts) */
  type: string;
  name?: string;
  /** the headline state: locked/unlocked, open/closed, up/down, ok */
  state: string;
  /** the code of the current fault, null when healthy */
  fault: string | null;
  [detail: string]: unknown;
}

export interface Device {
  readonly id: string;
  /** its kind (devices/kinds.ts) */
  readonly type: string;
  /** Boards this device drives or reads, for fault reporting. */
  readonly boards: ReadonlySet<string>;
  /** Drives every output to its safe state at once; called before anything else on start. */
  applySafeState(): void;
  /** Starts watching inputs and timers. */
  start(): void;
  /** Stops timers and watchers and leaves every output in its safe state. */
  stop(): void;
  command(action: DeviceAction, ctx: CommandContext): CommandResult;
  /**
   * Sets one of this device's outputs by hand (the installer's I/O page): the only way to move
   * an output without a command, and it obeys the device's own safety rules, the same ones its
   * commands obey. `role` is the pin's role in the config (`close`, `raise`, `lock`, ...),
   * `active` the logical level asked, `pulseMs` (with active) how long before it is released.
   * A lane's moves and a door's lock become the device's own commands, so the device guards
   * them (hold-off, reversal, relock) and its state stays true.
   */
  driveByHand(role: string, active: boolean, pulseMs: number | undefined, ctx: CommandContext): CommandResult;
  /** The fire alarm changed: release (or return to normal). */
  fireAlarmChanged(active: boolean): void;
  /** A board this device uses went away or came back. */
  boardStatusChanged(board: string, online: boolean, reason?: string): void;
  snapshot(): DeviceSnapshot;
  /** Its entry in /api/health, for kinds that have one (the kind's `health` says under which group). */
  health?(): object;
  /** For devices with a loop of their own (meter pollers): whether it still makes progress. */
  alive?(now: number): boolean;
}

/** A barrier or bollard: a device a camera can open, with a loop that sees vehicles. */
export interface LaneDevice extends Device {
  readonly type: 'barrier' | 'bollard';
  /** Called when a vehicle arrives on (true) or leaves (false) the lane's safety loop. */
  onVehicle(listener: (present: boolean) => void): () => void;
  /** its LED screen and voice, when it has one (devices/lane-display.ts) */
  readonly display: LaneDisplay | undefined;
}

/** Everything a device is given by the composition root. */
export interface DeviceContext {
  clock: Clock;
  log: Logger;
  /** Makes and publishes an event from this device; returns the event's id. */
  emit<T extends EventType>(type: T, data: EventData[T]): string;
  /** Publishes the device's new state (P/state/{device}, the console). */
  stateChanged(snapshot: DeviceSnapshot): void;
  output(ref: PinRef): OutputPin;
  input(ref: PinRef): InputPin;
  /** Whether the fire alarm is active right now. */
  fireAlarmActive(): boolean;
}

export const refused = (error: CommandRefusal, message: string): CommandResult => ({ ok: false, error, message });
export const accepted: CommandResult = { ok: true };
