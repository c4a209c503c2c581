/**
 * Local vehicle decisions: who may enter, which visitors wait for staff, what a stay costs.
 * Everything a decision needs is in memory, so a camera push is decided in microseconds with
 * the broker down and the disk busy; the open stays are saved to `stays.json` in the background.
 *
 * Entry (camera direction `in`), in this order (docs/parking.md):
 * - no plate read, or confidence under the camera's `minConfidence`: denied, recorded;
 * - a `blocked` car: denied (`blocked`);
 * - a car already inside: `access.passback.alreadyInside` (allow and flag, refuse, ask staff);
 * - a listed car allowed on this lane and not expired: granted (`resident`, `free`), unless its
 *   household's spaces are all taken by its other cars inside: then it is temporary from now on
 *   (`spaces-taken`, charged at exit);
 * - a temporary car when its car park is full: denied (`full`);
 * - anyone else is a visitor, by `access.visitors`: `deny` → denied, `record` → granted and
 *   recorded, `ask` → pending until staff or the platform decides, denied after `askTimeoutSec`.
 *   A monthly car past its `until` is one of them (`expired`), charged as temporary.
 * Exit (direction `out`): paired with the entry of the same plate (durationSec, and feeCents for
 * temporary stays from the tariff); an exit with no entry follows `passback.neverEntered`. Under
 * `ask`, a temporary car that owes a fee waits for staff (who collect it) instead of leaving.
 * Temporary cars take a space of the lane's car park on entry and give it back on exit.
 */
import type { AccessConfig, VehicleClass } from '../schema/sections.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { clockTrusted } from '../core/clock.js';
import type { EventData } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { Credentials } from './credentials.js';
import { CarParks } from './car-parks.js';
import type { CarParkState } from './car-parks.js';
import type { AllowedEntry } from './plates.js';
import { PlateList, classOf, endOf } from './plates.js';
import type { Stay, StayInfo } from './stays.js';
import { Stays, temporaryStay } from './stays.js';
import { feeCents } from './tariff.js';

export type { Stay } from './stays.js';
export { STAY_MAX_DAYS } from './stays.js';

export type Decision = 'granted' | 'denied' | 'pending';

/** Every reason a vehicle decision gives (the console and docs/events.md translate each). */
export const VEHICLE_REASONS = [
  'resident',
  'free',
  'visitor',
  'spaces-taken',
  'lane-not-allowed',
  'expired',
  'blocked',
  'full',
  'already-inside',
  'never-entered',
  'low-confidence',
  'no-plate',
  'exit',
  'exit-no-entry',
  'fee-due',
] as const;
export type VehicleReason = (typeof VEHICLE_REASONS)[number];

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
  reason: VehicleReason;
  visitor: boolean;
  /** the car's class: its listed class, or temporary when not listed */
  class: VehicleClass;
  /** a listed car charged as a temporary one (its monthly ran out, its household's spaces are taken) */
  chargedAs?: 'temporary';
  /** the car park whose lane this is */
  carPark?: string;
  /** entered while the gateway thought it was inside already (its exit was missed) */
  alreadyInside?: true;
  /** left without an entry on record */
  neverEntered?: true;
  /** a monthly car: whole days until its `until` (negative once past it) */
  daysLeft?: number;
  /** what the screen needs to say on an entry: the spaces left in the car park after it */
  spacesLeft?: number;
  /** exits: how long the vehicle stayed and what it owes */
  durationSec?: number;
  feeCents?: number;
  /** no fee computed: the stay was measured on a clock not synchronised since boot */
  feeWithheld?: 'clock-unsynced';
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
  /** how the car enters when staff let it in */
  stay: StayInfo;
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
  /** a car park's count changed (its retained state, the console) */
  onCarParkChanged?(park: CarParkState): void;
  /** staff or the platform corrected a car park's count (recorded as car-park.corrected) */
  onCarParkCorrected?(park: CarParkState, was: number, by: { by: 'console' | 'remote'; user?: string }): void;
}

export class AccessControl {
  readonly plates: PlateList;
  /** people at doors: QR visitor passes and residents' cards (access/credentials.ts) */
  readonly credentials: Credentials;
  readonly carParks: CarParks;
  private readonly stays: Stays;
  private readonly pending = new Map<string, PendingDecision & { timer: TimerHandle }>();
  private pendingSeq = 0;

  constructor(private readonly deps: AccessDeps) {
    const access = deps.config.access;
    this.plates = new PlateList(access.plates, deps.dataDir, deps.clock, deps.log.child({ component: 'plates' }));
    this.credentials = new Credentials({ access, dataDir: deps.dataDir, clock: deps.clock, log: deps.log });
    this.carParks = new CarParks(access.carParks, deps.dataDir, deps.log.child({ component: 'car-parks' }), (park) => deps.onCarParkChanged?.(park));
    this.stays = new Stays(deps.dataDir, deps.clock, deps.log, this.carParks);
  }

  /**
   * Staff or the platform set a car park's count (it drifted): on disk before this returns, and
   * recorded. Undefined when there is no such car park.
   */
  correctSpaces(id: string, used: number, by: { by: 'console' | 'remote'; user?: string }): CarParkState | undefined {
    const was = this.carParks.state(id)?.used;
    if (was === undefined || !this.carParks.set(id, used, true)) return undefined;
    const park = this.carParks.state(id)!;
    this.deps.onCarParkCorrected?.(park, was, by);
    return park;
  }

  /** What lane screens show and say (access.screen). */
  get screen(): AccessConfig['screen'] {
    return this.deps.config.access.screen;
  }

  /** Loads the plate and card lists and the open stays; unreadable files are moved aside and reported. */
  load(): Array<{ movedTo: string; reason: string }> {
    const problems: Array<{ movedTo: string; reason: string }> = [];
    for (const list of [this.plates, this.credentials.cards]) {
      const loaded = list.load();
      if (loaded.movedTo) problems.push({ movedTo: loaded.movedTo, reason: loaded.reason ?? 'unreadable' });
    }
    const stays = this.stays.load();
    if (stays) problems.push(stays);
    const parks = this.carParks.load((park) => this.stays.temporaryIn(park));
    if (parks) problems.push(parks);
    return problems;
  }

  decide(read: Read): Verdict {
    const { camera, plate, confidence } = read;
    const now = this.deps.clock.now();
    if (plate === null) return { decision: 'denied', reason: 'no-plate', visitor: false, class: 'temporary' };
    if (confidence < camera.minConfidence) {
      return { decision: 'denied', reason: 'low-confidence', visitor: false, ...this.facts(this.classify(plate, camera.lane, now), camera.lane, now) };
    }
    return camera.direction === 'in' ? this.entry(camera, plate, now) : this.exit(camera, plate, now);
  }

  /** Who a plate is on this lane now: its list entry and class, and why the entry does not let it in as listed. */
  private classify(plate: string, lane: string, now: number): { entry?: AllowedEntry; cls: VehicleClass; problem?: 'expired' | 'lane-not-allowed' } {
    const check = this.plates.check(plate, lane, now);
    if (check.allowed) return { entry: check.entry, cls: classOf(check.entry) };
    if (!check.entry) return { cls: 'temporary' };
    // a blocked entry past its `until` no longer blocks: the car is temporary again
    if (check.entry.class === 'blocked' && check.reason === 'expired') return { cls: 'temporary' };
    return { entry: check.entry, cls: classOf(check.entry), problem: check.reason as 'expired' | 'lane-not-allowed' };
  }

  /** The class, car park and days left that every verdict on this car carries. */
  private facts(who: { entry?: AllowedEntry; cls: VehicleClass }, lane: string, now: number): Pick<Verdict, 'class' | 'carPark' | 'daysLeft'> {
    const park = this.carParks.of(lane)?.id;
    const until = who.entry?.until;
    return {
      class: who.cls,
      ...(park ? { carPark: park } : {}),
      ...(who.cls === 'monthly' && until !== undefined ? { daysLeft: Math.floor((endOf(until) - now) / 86_400_000) } : {}),
    };
  }

  private entry(camera: CameraPlace, plate: string, now: number): Verdict {
    const who = this.classify(plate, camera.lane, now);
    const facts = this.facts(who, camera.lane, now);
    const listed = who.entry !== undefined && who.problem === undefined;
    if (who.cls === 'blocked') return { decision: 'denied', reason: 'blocked', visitor: false, ...facts };
    const inside = this.stays.has(plate) ? ({ alreadyInside: true } as const) : {};
    const policy = this.deps.config.access.passback.alreadyInside;
    if (inside.alreadyInside && policy !== 'allow') {
      return { decision: policy === 'refuse' ? 'denied' : 'pending', reason: 'already-inside', visitor: !listed, ...facts, ...inside };
    }
    const group = who.entry?.group;
    if (listed) {
      const spaces = group !== undefined ? this.plates.groupSpaces(group) : undefined;
      const household = spaces === undefined ? 0 : this.stays.householdInside(group!, plate);
      if (spaces === undefined || household < spaces || who.cls === 'free') {
        this.stays.record(plate, camera, now, { visitor: false, class: who.cls, temporary: false, group });
        return { decision: 'granted', reason: who.cls === 'free' ? 'free' : 'resident', visitor: false, ...facts, ...inside };
      }
    }
    // From here the car is temporary: it needs a space.
    const chargedAs = who.entry !== undefined ? ({ chargedAs: 'temporary' } as const) : {};
    const temporary = { ...facts, ...chargedAs, ...inside };
    if (facts.carPark && this.carParks.isFull(facts.carPark) && !this.holdsSpace(plate, facts.carPark)) {
      return { decision: 'denied', reason: 'full', visitor: !listed, ...temporary };
    }
    const info: StayInfo = { visitor: !listed, class: who.cls, temporary: true, group };
    if (listed) {
      // a household's car beyond its spaces: known, let in, and charged as temporary
      this.stays.record(plate, camera, now, info);
      return { decision: 'granted', reason: 'spaces-taken', visitor: false, ...temporary, ...this.spacesLeft(facts.carPark) };
    }
    // A listed car on another lane, or whose permission ran out, is treated as a visitor.
    const why = who.problem ?? 'visitor';
    switch (this.deps.config.access.visitors) {
      case 'deny':
        return { decision: 'denied', reason: why, visitor: true, ...temporary };
      case 'record':
        this.stays.record(plate, camera, now, info);
        return { decision: 'granted', reason: why, visitor: true, ...temporary, ...this.spacesLeft(facts.carPark) };
      case 'ask':
        return { decision: 'pending', reason: why, visitor: true, ...temporary };
    }
  }

  /** A car re-entering (its exit missed) already holds its space. */
  private holdsSpace(plate: string, park: string): boolean {
    const stay = this.stays.get(plate);
    return stay !== undefined && stay.carPark === park && temporaryStay(stay);
  }

  private spacesLeft(park: string | undefined): Pick<Verdict, 'spacesLeft'> {
    const state = park ? this.carParks.state(park) : undefined;
    return state ? { spacesLeft: state.free } : {};
  }

  private exit(camera: CameraPlace, plate: string, now: number): Verdict {
    const stay = this.stays.get(plate);
    const who = this.classify(plate, camera.lane, now);
    const facts = this.facts(who, camera.lane, now);
    const resident = who.entry !== undefined && who.problem === undefined && who.cls !== 'blocked';
    if (!stay) {
      const policy = this.deps.config.access.passback.neverEntered;
      const verdict: Verdict = { decision: 'granted', reason: 'exit-no-entry', visitor: !resident, ...facts, neverEntered: true };
      if (policy === 'allow') return verdict;
      return { ...verdict, decision: policy === 'refuse' ? 'denied' : 'pending', reason: 'never-entered' };
    }
    const temporary = temporaryStay(stay);
    const cls = stay.class ?? (stay.visitor ? 'temporary' : facts.class);
    const verdict: Verdict = {
      decision: 'granted',
      reason: 'exit',
      visitor: stay.visitor,
      ...facts,
      class: cls,
      // a listed car that pays: an expired monthly car, a household's extra car
      ...(temporary && cls !== 'temporary' ? { chargedAs: 'temporary' as const } : {}),
    };
    verdict.durationSec = Math.max(0, Math.round((now - stay.enteredAt) / 1000));
    const tariff = this.deps.config.access.tariff;
    if (temporary && tariff && (!clockTrusted(this.deps.clock) || stay.unsyncedClock)) {
      // A stay measured on a clock not synchronised since boot may be off by years: no charge.
      verdict.feeWithheld = 'clock-unsynced';
    } else {
      verdict.feeCents = temporary && tariff ? feeCents(verdict.durationSec, tariff) : 0;
    }
    if (temporary && (verdict.feeCents ?? 0) > 0 && this.deps.config.access.visitors === 'ask') {
      return { ...verdict, decision: 'pending', reason: 'fee-due' };
    }
    this.stays.close(plate);
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
      stay: stayInfoOf(verdict, read.plate ? this.plates.check(read.plate, read.camera.lane, now).entry?.group : undefined),
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
        this.stays.record(decided.plate, { id: decided.camera, lane: decided.lane }, this.deps.clock.now(), decided.stay);
      } else {
        this.stays.close(decided.plate);
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
    return this.stays.list();
  }

  /** Forgets waiting vehicles (they are denied by nobody: the gateway is going) and saves the stays. */
  async stop(): Promise<void> {
    for (const p of this.pending.values()) this.deps.clock.clearTimeout(p.timer);
    this.pending.clear();
    this.stays.save();
    await this.flush();
  }

  async flush(): Promise<void> {
    await Promise.all([this.plates.flush(), this.stays.flush(), this.carParks.flush()]);
  }
}

/** How a held car enters if staff let it in. */
function stayInfoOf(verdict: Verdict, group: string | undefined): StayInfo {
  const temporary = verdict.visitor || verdict.chargedAs === 'temporary';
  return { visitor: verdict.visitor, class: verdict.class, temporary, ...(group !== undefined ? { group } : {}) };
}
