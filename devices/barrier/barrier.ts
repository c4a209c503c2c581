/**
 * A barrier arm (道闸): OPEN and optional CLOSE dry contacts, pulsed, and a safety loop.
 *
 * Never closes on a vehicle nor within 1 s of the loop clearing; a vehicle on the loop while the
 * arm comes down cuts the close pulse and reopens it (docs/safety.md, "Lanes"). The controller
 * gives no position feedback, so "closing" lasts travelMs after the close pulse. During a fire
 * alarm the OPEN contact is held, as a controller's FIRE input would hold it.
 */
import type { BarrierConfig, BarrierState } from './index.js';
import type { OutputPin } from '../../drivers/io/pin.js';
import type { TimerHandle } from '../../core/clock.js';
import type { CredentialData, LaneActor } from '../../core/events.js';
import { DeviceBase } from '../base.js';
import type { DisplayMaker, LaneDisplay } from '../lane-display.js';
import { SafetyLoop, mayMoveDown } from '../lane.js';
import type { CommandContext, CommandResult, Device, DeviceAction, DeviceContext, DeviceSnapshot, DriveAnswer } from '../types.js';
import { accepted, refused } from '../types.js';

export class Barrier extends DeviceBase<BarrierState> implements Device {
  readonly type = 'barrier' as const;
  readonly id: string;
  private readonly openOut: OutputPin;
  private readonly closeOut: OutputPin | undefined;
  private readonly loop: SafetyLoop;
  private state: BarrierState = 'unknown';
  private closeTimer: TimerHandle | undefined;
  private autoCloseTimer: TimerHandle | undefined;
  private closingBy: { by: LaneActor; user?: string } = { by: 'auto-close' };
  private unsubscribe: (() => void) | undefined;
  /** what the gateway last told the arm, for a barrier that cannot report where it is */
  private lastDone: { action: 'open' | 'close'; at: number; by: string } | undefined;

  readonly display: LaneDisplay | undefined;

  constructor(
    private readonly config: BarrierConfig,
    ctx: DeviceContext,
    display?: DisplayMaker,
  ) {
    super(ctx);
    this.id = config.id;
    this.display = display?.({ faultChanged: (code, message) => this.setPartFault(code, message), shown: () => this.publishState() });
    this.openOut = this.output(config.open, 'open');
    this.closeOut = config.close ? this.output(config.close, 'close') : undefined;
    if (config.safetyLoop) this.boards.add(config.safetyLoop.io);
    this.loop = new SafetyLoop(config.safetyLoop, ctx.input, ctx.clock);
  }

  applySafeState(): void {
    if (this.closeOut) this.release(this.closeOut);
    if (this.ctx.fireAlarmActive()) {
      this.hold(this.openOut);
      this.state = 'open';
      this.ctx.emit('barrier.opened', { by: 'fire-alarm' });
    } else {
      this.release(this.openOut);
    }
  }

  start(): void {
    this.unsubscribe = this.loop.start((present) => this.onLoop(present));
    this.display?.start();
    this.publishState();
  }

  stop(): void {
    this.display?.stop();
    this.unsubscribe?.();
    this.loop.stop();
    this.cancelTimers();
    if (this.closeOut) this.release(this.closeOut);
    if (!this.ctx.fireAlarmActive()) this.release(this.openOut);
  }

  onVehicle(listener: (present: boolean) => void): () => void {
    return this.loop.watch(listener);
  }

  command(action: DeviceAction, ctx: CommandContext): CommandResult {
    if (action === 'open') {
      this.open(ctx.by, ctx.user, ctx.credential);
      return accepted;
    }
    const check = mayMoveDown(this.id, this.loop, this.ctx.fireAlarmActive());
    if (!check.ok && check.error === 'fire-alarm') return check;
    if (!this.closeOut) return refused('not-supported', `${this.id} has no close output; the arm closes by itself`);
    if (!check.ok) {
      this.ctx.emit('barrier.blocked', { reason: this.loop.blockReason() ?? check.message, by: ctx.by, ...(ctx.user ? { user: ctx.user } : {}) });
      return check;
    }
    this.startClose(ctx.by, ctx.user);
    return accepted;
  }

  /**
   * By hand: nothing during a fire alarm (the open contact is held); OPEN and CLOSE set active
   * are the barrier's own open and close, so the arm is guarded (hold-off, reversal) and its
   * state stays true; releasing a contact is always allowed.
   */
  protected override mayDrive(role: string, active: boolean): DriveAnswer {
    if (this.ctx.fireAlarmActive()) return refused('fire-alarm', 'lanes stay open while the fire alarm is active');
    if (!active) return accepted;
    return role === 'close' ? { ok: true, asCommand: 'close' } : { ok: true, asCommand: 'open' };
  }

  fireAlarmChanged(active: boolean): void {
    this.cancelTimers();
    if (active) {
      if (this.closeOut) this.release(this.closeOut);
      this.hold(this.openOut);
      this.state = 'open';
      this.lastDone = { action: 'open', at: this.ctx.clock.now(), by: 'fire-alarm' };
      this.ctx.emit('barrier.opened', { by: 'fire-alarm' });
    } else {
      this.release(this.openOut);
      // back to normal: an arm that closes by itself does so now, unseen by the gateway; one with
      // a CLOSE output and a loop closes once the loop is clear (without a loop it cannot see a
      // car under it, and waits for staff)
      if (!this.closeOut) this.state = 'unknown';
      this.scheduleAutoClose();
    }
    this.publishState();
  }

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, this.state, {
      vehicle: this.loop.pin ? this.loop.vehiclePresent : null,
      lastAction: this.lastDone ? { action: this.lastDone.action, at: new Date(this.lastDone.at).toISOString(), by: this.lastDone.by } : null,
      ...(this.display ? { display: this.display.snapshot() } : {}),
    });
  }

  private open(by: LaneActor, user?: string, credential?: CredentialData): void {
    if (this.ctx.fireAlarmActive()) return; // held open already
    this.cancelTimers();
    if (this.closeOut) this.release(this.closeOut);
    this.pulse(this.openOut, this.config.pulseMs);
    this.state = 'open';
    this.lastDone = { action: 'open', at: this.ctx.clock.now(), by };
    this.ctx.emit('barrier.opened', { by, ...(user ? { user } : {}), ...credential });
    this.publishState();
  }

  private startClose(by: LaneActor, user?: string): void {
    if (!this.closeOut) return;
    this.cancelTimers();
    this.release(this.openOut);
    this.pulse(this.closeOut, this.config.pulseMs);
    this.state = 'closing';
    this.lastDone = { action: 'close', at: this.ctx.clock.now(), by };
    this.closingBy = { by, ...(user ? { user } : {}) };
    this.closeTimer = this.ctx.clock.setTimeout(() => {
      this.closeTimer = undefined;
      this.state = 'closed';
      this.ctx.emit('barrier.closed', this.closingBy);
      this.publishState();
    }, this.config.travelMs);
    this.publishState();
  }

  private onLoop(present: boolean): void {
    if (present) {
      this.ctx.clock.clearTimeout(this.autoCloseTimer);
      this.autoCloseTimer = undefined;
      if (this.state === 'closing') {
        // The arm is coming down onto a vehicle: stop the close and lift it again, now.
        this.ctx.emit('barrier.blocked', { reason: 'vehicle on the safety loop while closing' });
        this.open('safety-loop');
      }
    } else if (this.state === 'open') {
      this.scheduleAutoClose();
    }
    this.publishState();
  }

  /** After a vehicle has passed, close once the loop has been clear long enough. */
  private scheduleAutoClose(): void {
    if (!this.closeOut || !this.config.autoClose || !this.loop.pin || this.ctx.fireAlarmActive()) return;
    this.ctx.clock.clearTimeout(this.autoCloseTimer);
    const wait = Math.max(this.config.autoCloseDelayMs, this.loop.holdOffRemaining());
    this.autoCloseTimer = this.ctx.clock.setTimeout(() => {
      this.autoCloseTimer = undefined;
      if (this.state !== 'open' || this.ctx.fireAlarmActive() || this.loop.blockReason()) return;
      this.startClose('auto-close');
    }, wait);
  }

  private cancelTimers(): void {
    this.ctx.clock.clearTimeout(this.closeTimer);
    this.ctx.clock.clearTimeout(this.autoCloseTimer);
    this.closeTimer = this.autoCloseTimer = undefined;
  }
}
