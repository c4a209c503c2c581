/**
 * A licence-plate camera (`type: lpr-camera`): reads pushed in its vendor's format are decided
 * locally and the lane opened before the camera is answered. Nothing on that path waits on the
 * disk or the network: the decision is in memory, the output write is started, the event goes
 * to the journal's queue, and the reply is sent.
 *
 * The same plate read again at the same camera within `repeatWindowSec` is one passage: it gets
 * the same answer and no second event. Unreadable reads are recorded, never dropped.
 */
import type { AccessControl, Read, Verdict } from '../../access/access.js';
import { normalizePlate } from '../../access/plate.js';
import { screenFor } from '../../access/screen-messages.js';
import type { LprCameraConfig, LprCameraState } from './index.js';
import type { CameraProtocol, CameraPush, CameraReply, PlateReadPush } from '../../drivers/lpr/types.js';
import { AllowList, SILENT_AFTER_MS, pushHealth, pushState } from '../push.js';
import type { PushHealth, PushResult, PushSource } from '../push.js';
import type { OutputPin } from '../../drivers/io/pin.js';
import type { VehicleData } from '../../core/events.js';
import { DeviceBase } from '../base.js';
import type { CommandResult, Device, DeviceContext, DeviceSnapshot, LaneDevice } from '../types.js';
import { refused } from '../types.js';

/** How long the capture trigger output is pulsed. */
export const TRIGGER_PULSE_MS = 300;
const MAX_RECENT = 256;

export interface CameraDeps {
  protocol: CameraProtocol;
  access: AccessControl;
  /** the lane device, looked up when the camera starts */
  lane(): LaneDevice | undefined;
  /** told how long a granted push took from receipt to the lane output written, in seconds */
  actuated?(seconds: number): void;
}

interface Recent {
  at: number;
  verdict: Verdict;
}

export class LprCamera extends DeviceBase<LprCameraState> implements Device, PushSource {
  readonly type = 'lpr-camera' as const;
  readonly id: string;
  readonly counts: Record<PushResult, number> = { read: 0, heartbeat: 0, ignored: 0, malformed: 0, refused: 0, 'too-large': 0, suppressed: 0 };
  private readonly trigger: OutputPin | undefined;
  private lastSeenAt: number | undefined;
  private lastAddress: string | undefined;
  private lastRead: { at: number; plate: string | null; decision: string } | undefined;
  private readonly recent = new Map<string, Recent>();
  private offVehicle: (() => void) | undefined;

  constructor(
    readonly config: LprCameraConfig,
    ctx: DeviceContext,
    private readonly deps: CameraDeps,
  ) {
    super(ctx);
    this.id = config.id;
    this.trigger = config.trigger ? this.output(config.trigger, 'trigger') : undefined;
  }

  applySafeState(): void {
    if (this.trigger) this.release(this.trigger);
  }

  start(): void {
    const trigger = this.trigger;
    if (trigger) {
      this.offVehicle = this.deps.lane()?.onVehicle((present) => {
        if (present) this.pulse(trigger, TRIGGER_PULSE_MS);
      });
    }
    this.publishState();
  }

  stop(): void {
    this.offVehicle?.();
    if (this.trigger) this.release(this.trigger);
  }

  command(): CommandResult {
    return refused('not-supported', `${this.id} is a camera: open its lane ${this.config.lane} instead`);
  }

  fireAlarmChanged(): void {
    // the lane itself opens for the fire alarm; a camera has nothing to release
  }

  private allowedFrom: AllowList | undefined;

  /** Whether a push from `address` is allowed (allowFrom). */
  accepts(address: string): boolean {
    this.allowedFrom ??= new AllowList(this.config.allowFrom);
    return this.allowedFrom.accepts(address);
  }

  count(result: PushResult): void {
    this.counts[result]++;
  }

  /**
   * Handles a push the HTTP server received: reads it, decides, opens the lane, records the event
   * and returns the vendor's answer. Throws PushError when the body cannot be read.
   */
  handlePush(body: Buffer, contentType: string | undefined, path: string, address: string): CameraReply {
    const received = performance.now();
    const push: CameraPush = this.deps.protocol.parse(body, contentType, path);
    const now = this.ctx.clock.now();
    const wasSilent = this.silent(now);
    this.lastSeenAt = now;
    this.lastAddress = address;
    if (push.kind !== 'read') {
      this.count(push.kind);
      if (wasSilent) this.publishState();
      return this.deps.protocol.reply(push, undefined, this.screenBytes());
    }
    const verdict = this.handleRead(push, now, received);
    return this.deps.protocol.reply(push, verdict, this.screenBytes());
  }

  /** What this camera's reply carries to its lane's screen (when the screen is wired to it). */
  private screenBytes() {
    return this.deps.lane()?.display?.takeFor(this.id) ?? [];
  }

  private handleRead(push: PlateReadPush, now: number, received: number): Verdict {
    const { plate, valid, color } = normalizePlate(push.plate);
    const key = plate ?? undefined;
    const repeat = key !== undefined ? this.recent.get(key) : undefined;
    if (repeat && now - repeat.at < this.config.repeatWindowSec * 1000) {
      this.count('suppressed');
      return repeat.verdict;
    }
    this.count('read');
    const read: Read = { camera: this.config, plate, confidence: push.confidence };
    const verdict = this.deps.access.decide(read);
    // A resend of an old read is recorded but moves nothing: that car is long gone.
    const late = push.retransmission === true;
    let laneError: string | undefined;
    if (verdict.decision === 'granted' && !late) {
      const lane = this.deps.lane();
      const result = lane ? lane.command('open', { by: 'camera', user: this.id }) : refused('offline', `no lane ${this.config.lane}`);
      if (!result.ok) laneError = result.error;
      else this.deps.actuated?.((performance.now() - received) / 1000);
    }
    if (key !== undefined) this.remember(key, now, verdict);

    const data: VehicleData = {
      plate: plate ?? 'unknown',
      confidence: push.confidence,
      lane: this.config.lane,
      decision: verdict.decision,
      reason: verdict.reason,
      visitor: verdict.visitor,
      class: verdict.class,
    };
    if (verdict.chargedAs) data.chargedAs = verdict.chargedAs;
    if (verdict.carPark) data.carPark = verdict.carPark;
    if (verdict.alreadyInside) data.alreadyInside = true;
    if (verdict.neverEntered) data.neverEntered = true;
    if (verdict.daysLeft !== undefined) data.daysLeft = verdict.daysLeft;
    if (push.cameraList) data.cameraList = push.cameraList;
    if (plate !== null && !valid) data.unusualPlate = true;
    if (plate !== null && push.plate !== null && push.plate !== plate) data.rawPlate = push.plate.slice(0, 32);
    const plateColor = push.plateColor ?? color;
    if (plateColor) data.plateColor = plateColor;
    if (push.cameraTime) data.cameraTime = push.cameraTime;
    if (late) data.late = true;
    if (laneError) data.laneError = laneError;
    // A late read is not held for staff either: nobody waits at the lane for it.
    const pending = verdict.decision === 'pending' && !late ? this.deps.access.hold(read, verdict) : undefined;
    if (pending) data.pendingId = pending.id;
    let eventId: string;
    if (this.config.direction === 'in') {
      eventId = this.ctx.emit('vehicle.entry', data);
    } else {
      eventId = this.ctx.emit('vehicle.exit', {
        ...data,
        ...(verdict.durationSec !== undefined ? { durationSec: verdict.durationSec } : {}),
        ...(verdict.feeCents !== undefined ? { feeCents: verdict.feeCents } : {}),
        ...(verdict.feeWithheld ? { feeWithheld: verdict.feeWithheld } : {}),
      });
    }
    if (pending) this.deps.access.noteEvent(pending.id, eventId);
    // The driver sees and hears it: after the lane moved, never before.
    if (!late) this.deps.lane()?.display?.show(screenFor(this.config.direction, plate, verdict, this.deps.access.screen, new Date(now)));
    this.lastRead = { at: now, plate, decision: verdict.decision };
    this.publishState();
    return verdict;
  }

  private remember(key: string, now: number, verdict: Verdict): void {
    this.recent.delete(key);
    this.recent.set(key, { at: now, verdict });
    if (this.recent.size > MAX_RECENT) {
      for (const [k, r] of this.recent) {
        if (this.recent.size <= MAX_RECENT / 2 && now - r.at < this.config.repeatWindowSec * 1000) break;
        this.recent.delete(k);
      }
    }
  }

  private silent(now: number): boolean {
    return this.lastSeenAt === undefined || now - this.lastSeenAt > SILENT_AFTER_MS;
  }

  /** Its entry in /api/health: when it was last heard from (a push or a heartbeat). */
  health(): PushHealth {
    return pushHealth(this.lastSeenAt, this.ctx.clock.now());
  }

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, pushState(this.lastSeenAt, this.ctx.clock.now()), {
      vendor: this.config.vendor,
      direction: this.config.direction,
      lane: this.config.lane,
      lastSeenAt: this.lastSeenAt === undefined ? null : new Date(this.lastSeenAt).toISOString(),
      lastAddress: this.lastAddress ?? null,
      lastRead: this.lastRead ? { at: new Date(this.lastRead.at).toISOString(), plate: this.lastRead.plate, decision: this.lastRead.decision } : null,
      pushes: { ...this.counts },
    });
  }
}
