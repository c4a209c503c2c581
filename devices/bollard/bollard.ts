/**
 * A rising bollard (升降柱): LOWER and RAISE outputs (pulsed), a safety loop, optional limit
 * switches.
 *
 * Never raises on a vehicle nor within 1 s of the loop clearing; a vehicle on the loop while it
 * rises reverses it to down. A move that does not reach its limit switch within travelMs is a
 * `bollard.fault`, not a success. After a restart it stays as found until told: a parked car can
 * be invisible to a loop detector after a power cycle (docs/safety.md, "Lanes"), so "the loop reads clear" is
 * never a reason to raise. During a fire alarm it goes down and stays down.
 */
import type { BollardConfig, BollardState } from './index.js';
import type { InputPin, OutputPin } from '../../drivers/io/pin.js';
import type { TimerHandle } from '../../core/clock.js';
import type { CredentialData, LaneActor } from '../../core/events.js';
import { DeviceBase } from '../base.js';
import type { DisplayMaker, LaneDisplay } from '../lane-display.js';
import { SafetyLoop, mayMoveDown } from '../lane.js';
import type { CommandContext, CommandResult, Device, DeviceAction, DeviceContext, DeviceSnapshot, DriveAnswer } from '../types.js';
import { accepted, refused } from '../types.js';

interface Actor {
  by: LaneActor;
  user?: string;
  /** a lane lowered for a credential at a reader: who it was (on bollard.lowered) */
  credential?: CredentialData;
}

export class Bollard extends DeviceBase<BollardState> implements Device {
  readonly type = 'bollard' as const;
  readonly id: string;
  private readonly lowerOut: OutputPin;
  private readonly raiseOut: OutputPin;
  private readonly loop: SafetyLoop;
  private readonly downLimit: InputPin | undefined;
  private readonly upLimit: InputPin | undefined;
  private state: BollardState = 'unknown';
  private moveTimer: TimerHandle | undefined;
  private mover: Actor = { by: 'console' };
  private readonly unsubscribe: Array<() => void> = [];

  readonly display: LaneDisplay | undefined;

  constructor(
    private readonly config: BollardConfig,
    ctx: DeviceContext,
    display?: DisplayMaker,
  ) {
    super(ctx);
    this.id = config.id;
    this.display = display?.({ faultChanged: (code, message) => this.setPartFault(code, message), shown: () => this.publishState() });
    this.lowerOut = this.output(config.lower, 'lower');
    this.raiseOut = this.output(config.raise, 'raise');
    this.boards.add(config.safetyLoop.io);
    this.loop = new SafetyLoop(config.safetyLoop, ctx.input, ctx.clock);
    this.downLimit = config.downLimit ? this.input(config.downLimit) : undefined;
    this.upLimit = config.upLimit ? this.input(config.upLimit) : undefined;
  }

  applySafeState(): void {
    this.release(this.raiseOut);
    this.release(this.lowerOut);
    if (this.ctx.fireAlarmActive()) this.lower({ by: 'fire-alarm' });
  }

  start(): void {
    this.unsubscribe.push(this.loop.start((present) => this.onLoop(present)));
    for (const limit of [this.downLimit, this.upLimit]) {
      if (!limit) continue;
      limit.start();
      this.unsubscribe.push(limit.onChange(() => this.onLimit()));
    }
    // Stay as found: take the position from the limit switches, move nothing.
    if (this.state === 'unknown') {
      if (this.downLimit?.active) this.state = 'down';
      else if (this.upLimit?.active) this.state = 'up';
    }
    this.display?.start();
    this.publishState();
  }

  stop(): void {
    this.display?.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    this.loop.stop();
    this.downLimit?.stop();
    this.upLimit?.stop();
    this.ctx.clock.clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    this.release(this.raiseOut);
    this.release(this.lowerOut);
  }

  onVehicle(listener: (present: boolean) => void): () => void {
    return this.loop.watch(listener);
  }

  command(action: DeviceAction, ctx: CommandContext): CommandResult {
    const actor: Actor = { by: ctx.by, ...(ctx.user ? { user: ctx.user } : {}) };
    if (action === 'open') {
      if (!this.ctx.fireAlarmActive()) this.lower({ ...actor, ...(ctx.credential ? { credential: ctx.credential } : {}) });
      return accepted;
    }
    const check = mayMoveDown(this.id, this.loop, this.ctx.fireAlarmActive());
    if (!check.ok) {
      if (check.error === 'unsafe') this.ctx.emit('bollard.blocked', { reason: this.loop.blockReason() ?? check.message, ...actor });
      return check;
    }
    this.raise(actor);
    return accepted;
  }

  /**
   * By hand: nothing during a fire alarm; LOWER and RAISE set active are the bollard's own
   * lower and raise, so it is guarded (hold-off, travel time, reversal) as any move is;
   * releasing a contact is always allowed.
   */
  protected override mayDrive(role: string, active: boolean): DriveAnswer {
    if (this.ctx.fireAlarmActive()) return refused('fire-alarm', 'lanes stay open while the fire alarm is active');
    if (!active) return accepted;
    return role === 'raise' ? { ok: true, asCommand: 'close' } : { ok: true, asCommand: 'open' };
  }

  fireAlarmChanged(active: boolean): void {
    // When the alarm clears the bollard stays down until told: nobody knows what is parked on it.
    if (active) this.lower({ by: 'fire-alarm' });
  }

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, this.state, { vehicle: this.loop.vehiclePresent, ...(this.display ? { display: this.display.snapshot() } : {}) });
  }

  private raise(actor: Actor): void {
    this.release(this.lowerOut);
    this.pulse(this.raiseOut, this.config.pulseMs);
    this.startMove('raising', actor, this.upLimit);
  }

  private lower(actor: Actor): void {
    this.release(this.raiseOut);
    this.pulse(this.lowerOut, this.config.pulseMs);
    this.startMove('lowering', actor, this.downLimit);
  }

  private startMove(state: 'raising' | 'lowering', actor: Actor, limit: InputPin | undefined): void {
    this.ctx.clock.clearTimeout(this.moveTimer);
    this.state = state;
    this.mover = actor;
    this.publishState();
    if (limit?.active) return this.arrive();
    this.moveTimer = this.ctx.clock.setTimeout(() => {
      this.moveTimer = undefined;
      if (limit) {
        // The limit switch would have ended the move: it never came.
        this.ownFault = 'TRAVEL_TIMEOUT';
        const reason = `${state === 'raising' ? 'up' : 'down'} limit not reached in ${this.config.travelMs} ms`;
        this.ctx.emit('bollard.fault', { reason, travelMs: this.config.travelMs });
        this.ctx.emit('device.fault', { code: 'TRAVEL_TIMEOUT', message: reason });
        this.state = 'unknown';
        this.publishState();
      } else {
        this.arrive(); // no limit switch: travel time is all we have
      }
    }, this.config.travelMs);
  }

  private arrive(): void {
    this.ctx.clock.clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    const up = this.state === 'raising';
    this.state = up ? 'up' : 'down';
    if (this.ownFault) {
      this.ownFault = null;
      this.ctx.emit('device.recovered', { code: 'TRAVEL_TIMEOUT' });
    }
    const { credential, ...actor } = this.mover;
    if (up) this.ctx.emit('bollard.raised', actor);
    else this.ctx.emit('bollard.lowered', { ...actor, ...credential });
    this.publishState();
  }

  private onLimit(): void {
    if (this.state === 'raising' && this.upLimit?.active) this.arrive();
    else if (this.state === 'lowering' && this.downLimit?.active) this.arrive();
    else if (this.state !== 'raising' && this.state !== 'lowering') {
      const found: BollardState = this.downLimit?.active ? 'down' : this.upLimit?.active ? 'up' : this.state;
      if (found !== this.state) {
        this.state = found;
        this.publishState();
      }
    }
  }

  private onLoop(present: boolean): void {
    if (present && this.state === 'raising') {
      // Rising under a vehicle: reverse to down at once.
      this.ctx.emit('bollard.blocked', { reason: 'vehicle on the safety loop while raising' });
      this.lower({ by: 'safety-loop' });
    }
    this.publishState();
  }
}
