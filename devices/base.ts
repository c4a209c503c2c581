/** What every device does the same way: board faults, output re-assertion and state publishing. */
import type { OutputPin } from '../drivers/io/pin.js';
import type { TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { FaultCode } from '../core/errors.js';
import type { CommandContext, CommandResult, DeviceAction, DeviceContext, DeviceSnapshot, DriveAnswer } from './types.js';
import { accepted, refused } from './types.js';

/** `S`: the states its kind lists (devices/<kind>/index.ts): a device cannot report another. */
export abstract class DeviceBase<S extends string = string> {
  abstract readonly id: string;
  abstract readonly type: string;
  readonly boards = new Set<string>();
  private readonly offlineBoards = new Map<string, string>();
  private readonly outputs: OutputPin[] = [];
  private readonly outputsByRole = new Map<string, OutputPin>();

  protected constructor(protected readonly ctx: DeviceContext) {}

  /** A fault of the device's own (a bollard that did not reach its limit), besides a missing board. */
  protected ownFault: FaultCode | null = null;
  private readonly pulses = new Map<OutputPin, TimerHandle>();

  /** A fault of a part attached to the device (a lane's screen): the device itself still works. */
  protected partFault: FaultCode | null = null;

  get fault(): FaultCode | null {
    return this.offlineBoards.size ? 'BOARD_OFFLINE' : (this.ownFault ?? this.partFault);
  }

  abstract snapshot(): DeviceSnapshot;

  /**
   * The snapshot every kind shows: its id, type and name, its state in its kind's own words (the
   * type says which: devices/kinds.ts), its fault, then what else the kind tells.
   */
  protected snapshotOf(name: string | undefined, state: S, details: Record<string, unknown> = {}): DeviceSnapshot {
    return { id: this.id, type: this.type, ...(name ? { name } : {}), state, fault: this.fault, ...details };
  }

  /** An output of this device, under its role in the config (`lock`, `open`, ...). */
  protected output(ref: Parameters<DeviceContext['output']>[0], role: string): OutputPin {
    const pin = this.ctx.output(ref);
    this.boards.add(ref.io);
    this.outputs.push(pin);
    this.outputsByRole.set(role, pin);
    return pin;
  }

  protected input(ref: Parameters<DeviceContext['input']>[0]) {
    this.boards.add(ref.io);
    return this.ctx.input(ref);
  }

  /**
   * Sets one of this device's outputs by hand (the installer's I/O page): asks `mayDrive` first,
   * then does it as the device's own command where it says so, or else through the device's own
   * pin bookkeeping (a pulse, a hold, a release), so the device always knows what its outputs do.
   */
  driveByHand(role: string, active: boolean, pulseMs: number | undefined, by: CommandContext): CommandResult {
    const asked = this.mayDrive(role, active);
    if (!asked.ok) return asked;
    if ('asCommand' in asked) return this.command(asked.asCommand, by);
    const pin = this.outputsByRole.get(role);
    if (!pin) return refused('not-supported', `${this.id} has no output ${role}`);
    if (!active) this.release(pin);
    else if (pulseMs !== undefined) this.pulse(pin, pulseMs);
    else this.hold(pin);
    return accepted;
  }

  abstract command(action: DeviceAction, ctx: CommandContext): CommandResult;

  /** Whether an output may be set by hand now; nothing of this kind's is unsafe unless it says so. */
  protected mayDrive(_role: string, _active: boolean): DriveAnswer {
    return accepted;
  }

  /** Sets an output without waiting: actuation never waits on a board's confirmation. */
  protected drive(pin: OutputPin, active: boolean): void {
    pin.set(active).catch((err: unknown) => {
      this.ctx.log.error({ device: this.id, board: pin.ref.io, pin: pin.ref.pin, err: errorMessage(err) }, 'output write failed');
    });
  }

  /** Drives an output active for `ms`, then releases it. A new pulse on the same pin restarts it. */
  protected pulse(pin: OutputPin, ms: number): void {
    this.ctx.clock.clearTimeout(this.pulses.get(pin));
    this.drive(pin, true);
    this.pulses.set(
      pin,
      this.ctx.clock.setTimeout(() => {
        this.pulses.delete(pin);
        this.drive(pin, false);
      }, ms),
    );
  }

  /** Releases an output now, cutting short any pulse on it. Writes only if it is not already released. */
  protected release(pin: OutputPin): void {
    const timer = this.pulses.get(pin);
    this.ctx.clock.clearTimeout(timer);
    this.pulses.delete(pin);
    if (pin.requested !== false) this.drive(pin, false);
  }

  /** Holds an output active until released (a barrier held open through a fire alarm). */
  protected hold(pin: OutputPin): void {
    this.ctx.clock.clearTimeout(this.pulses.get(pin));
    this.pulses.delete(pin);
    if (pin.requested !== true) this.drive(pin, true);
  }

  /** A part's fault came or went (a lane's screen): recorded as the device's fault, the device still works. */
  protected setPartFault(code: FaultCode | null, message?: string): void {
    const was = this.partFault;
    if (code === was) return;
    this.partFault = code;
    if (code) this.ctx.emit('device.fault', { code, ...(message ? { message } : {}) });
    else if (was) this.ctx.emit('device.recovered', { code: was });
    this.publishState();
  }

  protected publishState(): void {
    this.ctx.stateChanged(this.snapshot());
  }

  boardStatusChanged(board: string, online: boolean, reason?: string): void {
    if (!this.boards.has(board)) return;
    const wasFaulty = this.fault !== null;
    if (online) {
      if (!this.offlineBoards.delete(board)) return;
      // A board that comes back may have reset its outputs: write what we want again.
      for (const pin of this.outputs) if (pin.ref.io === board) this.drive(pin, pin.requested ?? false);
      if (wasFaulty && this.fault === null) this.ctx.emit('device.recovered', { code: 'BOARD_OFFLINE' });
    } else {
      if (this.offlineBoards.has(board)) return;
      this.offlineBoards.set(board, reason ?? 'offline');
      if (!wasFaulty) this.ctx.emit('device.fault', { code: 'BOARD_OFFLINE', message: `io board ${board}: ${reason ?? 'offline'}` });
    }
    this.publishState();
  }
}
