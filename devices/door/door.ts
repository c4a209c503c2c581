/**
 * A door: lock relay, optional door contact and request-to-exit button.
 *
 * fail-secure (electric strike) is energised to unlock; fail-safe (maglock) is energised to lock
 * (docs/safety.md, "Doors"). The safe state is locked, or unlocked while the fire alarm is active.
 * An unlock lasts unlockMs; a second request extends it and never shortens it. Opening while
 * locked with no exit request is `door.forced`; open longer than heldOpenMs is `door.held-open`.
 */
import type { DoorConfig, DoorState } from './index.js';
import type { InputPin, OutputPin } from '../../drivers/io/pin.js';
import type { TimerHandle } from '../../core/clock.js';
import type { CredentialData, EventData } from '../../core/events.js';
import { DeviceBase } from '../base.js';
import type { CommandContext, CommandResult, Device, DeviceAction, DeviceContext, DeviceSnapshot, DriveAnswer } from '../types.js';
import { accepted, refused } from '../types.js';

/** An exit request this recent explains a door opening, even if its debounce settled second. */
const EXIT_REQUEST_GRACE_MS = 1000;

type UnlockBy = EventData['door.unlocked']['by'];

export class Door extends DeviceBase<DoorState> implements Device {
  readonly type = 'door' as const;
  readonly id: string;
  private readonly lock: OutputPin;
  private readonly contact: InputPin | undefined;
  private readonly exitButton: InputPin | undefined;
  private locked = true;
  private unlockedUntil = 0;
  private relockTimer: TimerHandle | undefined;
  private heldTimer: TimerHandle | undefined;
  private openedAt: number | undefined;
  private lastExitRequest = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly config: DoorConfig,
    ctx: DeviceContext,
  ) {
    super(ctx);
    this.id = config.id;
    this.lock = this.output(config.lock, 'lock');
    this.contact = config.contact ? this.input(config.contact) : undefined;
    this.exitButton = config.exitButton ? this.input(config.exitButton) : undefined;
  }

  applySafeState(): void {
    const fire = this.ctx.fireAlarmActive();
    this.setLocked(!fire);
    if (fire) this.ctx.emit('door.unlocked', { by: 'fire-alarm' });
  }

  start(): void {
    if (this.contact) {
      this.contact.start();
      if (this.contact.active) this.openedAt = this.ctx.clock.now();
      this.unsubscribe.push(this.contact.onChange((open) => (open ? this.onOpened() : this.onClosed())));
    }
    if (this.exitButton) {
      this.exitButton.start();
      this.unsubscribe.push(this.exitButton.onChange((pressed) => pressed && this.onExitRequest()));
    }
    if (this.openedAt !== undefined) this.armHeldOpen();
    this.publishState();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.contact?.stop();
    this.exitButton?.stop();
    this.ctx.clock.clearTimeout(this.heldTimer);
    this.ctx.clock.clearTimeout(this.relockTimer);
    this.heldTimer = this.relockTimer = undefined;
    if (!this.locked && !this.ctx.fireAlarmActive()) {
      this.setLocked(true);
      this.ctx.emit('door.locked', { by: 'shutdown' });
    }
  }

  command(action: DeviceAction, ctx: CommandContext): CommandResult {
    if (action === 'open') {
      this.unlock(ctx.by === 'camera' ? 'remote' : ctx.by, ctx.user, ctx.credential);
      return accepted;
    }
    if (this.ctx.fireAlarmActive()) return refused('fire-alarm', 'doors stay unlocked while the fire alarm is active');
    if (!this.locked) {
      this.ctx.clock.clearTimeout(this.relockTimer);
      this.relockTimer = undefined;
      this.setLocked(true);
      this.ctx.emit('door.locked', { by: ctx.by === 'camera' ? 'remote' : ctx.by, ...(ctx.user ? { user: ctx.user } : {}) });
      this.publishState();
    }
    return accepted;
  }

  /**
   * By hand: the lock is the door's own unlock (for unlockMs, then relock) or lock, so the door's
   * state, its forced-open alarm and the fire alarm's release stay true.
   */
  protected override mayDrive(_role: string, active: boolean): DriveAnswer {
    const unlock = active === (this.config.lockType === 'fail-secure');
    return { ok: true, asCommand: unlock ? 'open' : 'close' };
  }

  fireAlarmChanged(active: boolean): void {
    if (active) {
      this.ctx.clock.clearTimeout(this.relockTimer);
      this.ctx.clock.clearTimeout(this.heldTimer);
      this.relockTimer = this.heldTimer = undefined;
      this.setLocked(false);
      this.ctx.emit('door.unlocked', { by: 'fire-alarm' });
    } else {
      this.setLocked(true);
      this.ctx.emit('door.locked', { by: 'fire-alarm-cleared' });
      if (this.openedAt !== undefined) {
        this.openedAt = this.ctx.clock.now();
        this.armHeldOpen();
      }
    }
    this.publishState();
  }

  /** forced open (opened while locked, no exit request) or held open too long; null once it closes */
  private alarm: 'forced' | 'held-open' | null = null;

  snapshot(): DeviceSnapshot {
    const open = this.contact ? (this.openedAt !== undefined ? 'open' : 'closed') : 'unknown';
    return this.snapshotOf(this.config.name, this.locked ? 'locked' : 'unlocked', {
      door: open,
      /** what is wrong with the door right now, until it closes: forced open, or held open too long */
      alarm: this.alarm,
      lockType: this.config.lockType,
      ...(this.locked || this.ctx.fireAlarmActive() ? {} : { unlockedUntil: new Date(this.unlockedUntil).toISOString() }),
    });
  }

  private unlock(by: UnlockBy, user?: string, credential?: CredentialData): void {
    if (this.ctx.fireAlarmActive()) return; // already released, and stays so until the alarm clears
    const extended = !this.locked;
    // A second request extends the unlock and never shortens it.
    this.unlockedUntil = Math.max(this.unlockedUntil, this.ctx.clock.now() + this.config.unlockMs);
    if (this.locked) this.setLocked(false);
    this.ctx.clock.clearTimeout(this.relockTimer);
    this.relockTimer = this.ctx.clock.setTimeout(() => this.relock(), this.unlockedUntil - this.ctx.clock.now());
    this.ctx.emit('door.unlocked', {
      by,
      ...(user ? { user } : {}),
      durationMs: this.config.unlockMs,
      ...(extended ? { extended } : {}),
      ...credential,
    });
    this.publishState();
  }

  private relock(): void {
    this.relockTimer = undefined;
    if (this.ctx.fireAlarmActive() || this.locked) return;
    this.setLocked(true);
    this.ctx.emit('door.locked', { by: 'timeout' });
    this.publishState();
  }

  private onExitRequest(): void {
    this.lastExitRequest = this.ctx.clock.now();
    this.unlock('exit-button');
  }

  private onOpened(): void {
    const now = this.ctx.clock.now();
    this.openedAt = now;
    const fire = this.ctx.fireAlarmActive();
    this.ctx.emit('door.opened', { locked: this.locked });
    if (this.locked && !fire && now - this.lastExitRequest > EXIT_REQUEST_GRACE_MS) {
      this.alarm = 'forced';
      this.ctx.emit('door.forced', {});
    }
    if (!fire) this.armHeldOpen();
    this.publishState();
  }

  private onClosed(): void {
    const openMs = this.openedAt === undefined ? 0 : this.ctx.clock.now() - this.openedAt;
    this.openedAt = undefined;
    this.alarm = null; // a forced or held-open door that closes again is back to normal
    this.ctx.clock.clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.ctx.emit('door.closed', { openMs });
    this.publishState();
  }

  private armHeldOpen(): void {
    this.ctx.clock.clearTimeout(this.heldTimer);
    this.heldTimer = this.ctx.clock.setTimeout(() => {
      this.heldTimer = undefined;
      if (this.openedAt === undefined || this.ctx.fireAlarmActive()) return;
      if (this.alarm === null) this.alarm = 'held-open';
      this.ctx.emit('door.held-open', { openMs: this.ctx.clock.now() - this.openedAt, heldOpenMs: this.config.heldOpenMs });
      this.publishState();
    }, this.config.heldOpenMs);
  }

  /** fail-secure: energise to unlock; fail-safe: energise to lock. */
  private setLocked(locked: boolean): void {
    this.locked = locked;
    if (locked) this.unlockedUntil = 0;
    this.drive(this.lock, this.config.lockType === 'fail-secure' ? !locked : locked);
  }
}
