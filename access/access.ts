/**
 * Local vehicle decisions: who may enter, which visitors wait for staff, what a stay costs.
 * Everything a decision needs is in memory, so a camera push is decided in microseconds with
 * the broker down and the disk busy; the open stays are saved to `stays.json` in the background.
 *
 * Entry (camera direction `in`):
 * - no plate read, or confidence under the camera's `minConfidence`: denied, recorded;
 * - a listed plate allowed on this lane and not expired: granted (`resident`);
 * - anyone else is a visitor, by `access.visitors`: `deny` → denied, `record` → granted and
 *   recorded, `ask` → pending until staff or the platform decides, denied after `askTimeoutSec`.
 * Exit (direction `out`): granted and paired with the entry of the same plate (durationSec, and
 * feeCents for visitors from the tariff). Under `ask`, a visitor who owes a fee waits for staff
 * (who collect it) instead of leaving at once.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { AccessConfig } from '../schema/sections.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { clockTrusted } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { EventData } from '../core/events.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';
import { Credentials } from './credentials.js';
import { PlateList } from './plates.js';
import { feeCents } from './tariff.js';

export type Decision = 'granted' | 'denied' | 'pending';

/** What a plate decision needs of the camera that read it (an lpr-camera's config has it). */
export interface CameraPlace {
  id: string;
  /** the barrier or bollard it opens */
  lane: string;
  direction: 'in' | 'out';
  minConfidence: number;
}

export interface Read {
  camera: CameraPlace;
  /** normalised plate, null when none was read */
  plate: string | null;
  confidence: number;
}

export interface Verdict {
  decision: Decision;
  reason: string;
  visitor: boolean;
  /** exits: how long the vehicle stayed and what it owes */
  durationSec?: number;
  feeCents?: number;
  /** no fee computed: the stay was measured on a clock not synchronised since boot */
  feeWithheld?: 'clock-unsynced';
}

export interface Stay {
  plate: string;
  /** ms since the epoch */
  enteredAt: number;
  lane: string;
  camera: string;
  visitor: boolean;
  /** entered while the clock was not synchronised: its duration cannot be trusted for a fee */
  unsyncedClock?: true;
}

export interface PendingDecision {
  id: string;
  plate: string | null;
  camera: string;
  lane: string;
  direction: 'in' | 'out';
  visitor: boolean;
  since: number;
  expiresAt: number;
  confidence: number;
  reason: string;
  /** the id of the vehicle event that recorded the wait */
  eventId?: string;
  durationSec?: number;
  feeCents?: number;
}

export type PendingOutcome = { decision: 'granted' | 'denied'; by: 'console' | 'remote' | 'timeout'; user?: string };

/** The vehicle.decided event of a held vehicle: who decided what, with the stay's figures, and why its lane did not open if it did not. */
export function decidedData(pending: PendingDecision, outcome: PendingOutcome, laneError?: string): EventData['vehicle.decided'] {
  return {
    pendingId: pending.id,
    plate: pending.plate ?? 'unknown',
    lane: pending.lane,
    direction: pending.direction,
    decision: outcome.decision,
    by: outcome.by,
    ...(outcome.user ? { user: outcome.user } : {}),
    ...(pending.eventId ? { eventId: pending.eventId } : {}),
    ...(pending.durationSec !== undefined ? { durationSec: pending.durationSec } : {}),
    ...(pending.feeCents !== undefined ? { feeCents: pending.feeCents } : {}),
    ...(laneError ? { laneError } : {}),
  };
}

const staysFile = z.strictObject({
  stays: z.array(
    z.strictObject({
      plate: z.string(),
      enteredAt: z.number(),
      lane: z.string(),
      camera: z.string(),
      visitor: z.boolean(),
      unsyncedClock: z.literal(true).optional(),
    }),
  ),
});

/** Stays are personal data: one older than this is forgotten (a car that left unseen). */
export const STAY_MAX_DAYS = 30;
const MAX_STAYS = 50_000;
const MAX_PENDING = 200;

export interface AccessDeps {
  /** the site's access section (plates, cards, passes, visitors, tariff) */
  config: { access: AccessConfig };
  /** the data dir; undefined keeps everything in memory (unit tests) */
  dataDir: string | undefined;
  clock: Clock;
  log: Logger;
  /** a pending decision was made (by staff, the platform or the timeout) */
  onPendingDecided(pending: PendingDecision, outcome: PendingOutcome): void;
  /** the list of waiting vehicles changed (the console shows it) */
  onPendingChanged?(): void;
}

export class AccessControl {
  readonly plates: PlateList;
  /** people at doors: QR visitor passes and residents' cards (access/credentials.ts) */
  readonly credentials: Credentials;
  private readonly stays = new Map<string, Stay>();
  private readonly pending = new Map<string, PendingDecision & { timer: TimerHandle }>();
  private readonly staysFile: JsonFile<z.output<typeof staysFile>> | undefined;
  private pendingSeq = 0;

  constructor(private readonly deps: AccessDeps) {
    const access = deps.config.access;
    this.plates = new PlateList(access.plates, deps.dataDir, deps.clock, deps.log.child({ component: 'plates' }));
    this.credentials = new Credentials({ access, dataDir: deps.dataDir, clock: deps.clock, log: deps.log });
    this.staysFile = deps.dataDir
      ? new JsonFile(join(deps.dataDir, 'stays.json'), {
          mode: 0o600,
          delayMs: 1000,
          // one stay per line: readable, and cheap to write with thousands of cars inside
          format: (v) => `{"stays": [${v.stays.map((stay: Stay) => `\n  ${JSON.stringify(stay)}`).join(',')}${v.stays.length ? '\n' : ''}]}`,
          onError: (err) => deps.log.error({ err: errorMessage(err) }, 'open stays could not be saved; kept in memory'),
        })
      : undefined;
  }

  /** Loads the plate and card lists and the open stays; unreadable files are moved aside and reported. */
  load(): Array<{ movedTo: string; reason: string }> {
    const problems: Array<{ movedTo: string; reason: string }> = [];
    for (const list of [this.plates, this.credentials.cards]) {
      const loaded = list.load();
      if (loaded.movedTo) problems.push({ movedTo: loaded.movedTo, reason: loaded.reason ?? 'unreadable' });
    }
    if (this.staysFile) {
      const result = this.staysFile.load((v) => staysFile.parse(v));
      if (!result.ok) {
        this.deps.log.error({ movedTo: result.movedTo, reason: result.reason }, 'stays.json was unreadable and was moved aside');
        problems.push({ movedTo: result.movedTo, reason: result.reason });
      } else for (const stay of result.value?.stays ?? []) this.stays.set(stay.plate, stay);
      this.forgetOldStays();
    }
    return problems;
  }

  decide(read: Read): Verdict {
    const { camera, plate, confidence } = read;
    const now = this.deps.clock.now();
    if (plate === null) return { decision: 'denied', reason: 'no-plate', visitor: false };
    if (confidence < camera.minConfidence) return { decision: 'denied', reason: 'low-confidence', visitor: false };
    return camera.direction === 'in' ? this.entry(camera, plate, now) : this.exit(camera, plate, now);
  }

  private entry(camera: CameraPlace, plate: string, now: number): Verdict {
    const check = this.plates.check(plate, camera.lane, now);
    if (check.allowed) {
      this.recordEntry(plate, camera, now, false);
      return { decision: 'granted', reason: 'resident', visitor: false };
    }
    // A listed car on another lane, or whose permission ran out, is treated as a visitor.
    const why = check.reason === 'not-listed' ? 'visitor' : check.reason;
    switch (this.deps.config.access.visitors) {
      case 'deny':
        return { decision: 'denied', reason: why, visitor: true };
      case 'record':
        this.recordEntry(plate, camera, now, true);
        return { decision: 'granted', reason: why, visitor: true };
      case 'ask':
        return { decision: 'pending', reason: why, visitor: true };
    }
  }

  private exit(camera: CameraPlace, plate: string, now: number): Verdict {
    const stay = this.stays.get(plate);
    const resident = this.plates.check(plate, camera.lane, now).allowed;
    const visitor = stay ? stay.visitor : !resident;
    const verdict: Verdict = { decision: 'granted', reason: stay ? 'exit' : 'exit-no-entry', visitor };
    if (stay) {
      verdict.durationSec = Math.max(0, Math.round((now - stay.enteredAt) / 1000));
      const tariff = this.deps.config.access.tariff;
      if (visitor && tariff && (!clockTrusted(this.deps.clock) || stay.unsyncedClock)) {
        // A stay measured on a clock not synchronised since boot may be off by years: no charge.
        verdict.feeWithheld = 'clock-unsynced';
      } else {
        verdict.feeCents = visitor && tariff ? feeCents(verdict.durationSec, tariff) : 0;
      }
    }
    if (visitor && (verdict.feeCents ?? 0) > 0 && this.deps.config.access.visitors === 'ask') {
      return { ...verdict, decision: 'pending', reason: 'fee-due' };
    }
    this.closeStay(plate);
    return verdict;
  }

  /** Holds a vehicle for staff; denied by itself after askTimeoutSec. */
  hold(read: Read, verdict: Verdict): PendingDecision {
    const now = this.deps.clock.now();
    if (this.pending.size >= MAX_PENDING) {
      // the oldest waiting car has certainly left by now
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.settle(oldest, { decision: 'denied', by: 'timeout' });
    }
    const id = `p${now.toString(36)}${(++this.pendingSeq).toString(36)}`;
    const timeoutMs = this.deps.config.access.askTimeoutSec * 1000;
    const pending: PendingDecision & { timer: TimerHandle } = {
      id,
      plate: read.plate,
      camera: read.camera.id,
      lane: read.camera.lane,
      direction: read.camera.direction,
      visitor: verdict.visitor,
      since: now,
      expiresAt: now + timeoutMs,
      confidence: read.confidence,
      reason: verdict.reason,
      ...(verdict.durationSec !== undefined ? { durationSec: verdict.durationSec } : {}),
      ...(verdict.feeCents !== undefined ? { feeCents: verdict.feeCents } : {}),
      timer: this.deps.clock.setTimeout(() => this.settle(id, { decision: 'denied', by: 'timeout' }), timeoutMs),
    };
    this.pending.set(id, pending);
    this.deps.onPendingChanged?.();
    return pending;
  }

  /** Staff or the platform decide on a waiting vehicle. Returns undefined when it is no longer waiting. */
  settle(id: string, outcome: PendingOutcome): PendingDecision | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    this.deps.clock.clearTimeout(pending.timer);
    const { timer: _timer, ...decided } = pending;
    if (outcome.decision === 'granted' && decided.plate) {
      if (decided.direction === 'in') {
        this.recordEntry(decided.plate, { id: decided.camera, lane: decided.lane }, this.deps.clock.now(), decided.visitor);
      } else {
        this.closeStay(decided.plate);
      }
    }
    this.deps.onPendingDecided(decided, outcome);
    this.deps.onPendingChanged?.();
    return decided;
  }

  /** Attaches the event id of the vehicle event that recorded a wait. */
  noteEvent(id: string, eventId: string): void {
    const pending = this.pending.get(id);
    if (pending) pending.eventId = eventId;
  }

  waiting(): PendingDecision[] {
    return [...this.pending.values()].map(({ timer: _timer, ...p }) => p);
  }

  openStays(): Stay[] {
    return [...this.stays.values()];
  }

  /** Forgets waiting vehicles (they are denied by nobody: the gateway is going) and saves the stays. */
  async stop(): Promise<void> {
    for (const p of this.pending.values()) this.deps.clock.clearTimeout(p.timer);
    this.pending.clear();
    if (this.staysFile) {
      void this.staysFile.save({ stays: [...this.stays.values()] });
      await this.flush();
    }
  }

  async flush(): Promise<void> {
    await Promise.all([this.plates.flush(), this.staysFile?.flush()]);
  }

  private recordEntry(plate: string, camera: Pick<CameraPlace, 'id' | 'lane'>, now: number, visitor: boolean): void {
    // A car entering again without an exit between means its exit was missed (or it turned back
    // at the gate): the new entry starts the stay, so a missed exit is never charged for.
    if (!this.stays.has(plate) && this.stays.size >= MAX_STAYS) this.forgetOldStays(true);
    this.stays.delete(plate); // re-inserted last: the map stays in entry order
    this.stays.set(plate, {
      plate,
      enteredAt: now,
      lane: camera.lane,
      camera: camera.id,
      visitor,
      ...(clockTrusted(this.deps.clock) ? {} : { unsyncedClock: true as const }),
    });
    this.saveStays();
  }

  private closeStay(plate: string): void {
    if (this.stays.delete(plate)) this.saveStays();
  }

  private forgetOldStays(evenRecent = false): void {
    const horizon = this.deps.clock.now() - STAY_MAX_DAYS * 86_400_000;
    let forgotten = 0;
    for (const [plate, stay] of this.stays) {
      if (stay.enteredAt < horizon || (evenRecent && forgotten === 0)) {
        this.stays.delete(plate);
        forgotten++;
      }
    }
    if (forgotten) this.saveStays();
  }

  private saveStays(): void {
    void this.staysFile?.save({ stays: [...this.stays.values()] });
  }
}
