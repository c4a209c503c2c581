/**
 * Event types and the envelope every event and reading carries upstream (docs/events.md).
 * The journal adds `seq` and `historical`; everything else is fixed when the event is made.
 */
import type { Clock } from './clock.js';
import { clockTrusted } from './clock.js';
import type { FaultCode } from './errors.js';
import { ulidFactory } from './ulid.js';

export type UnlockSource = 'console' | 'remote' | 'exit-button' | 'fire-alarm' | 'schedule' | CredentialSource;
/** A credential shown at a door: a QR visitor pass or a card at a reader, or a terminal that decided itself. */
export type CredentialSource = 'qr' | 'card' | 'terminal';

/** Who a credential was (docs/credentials.md): card and person numbers are masked in logs, never in events. */
export interface CredentialData {
  /** the reader it was shown at */
  reader?: string;
  /** a visitor pass's id */
  pass?: string;
  /** uses the pass has left after this one */
  remainingUses?: number;
  /** the card number, in the card list's form when the reader or terminal has a cardFormat */
  card?: string;
  /** the card number as a terminal reported it, when its cardFormat changed it */
  cardAsRead?: string;
  /** the terminal's person (employee) number */
  person?: string;
  /** how a terminal verified: face, card, fingerprint, password, ... */
  method?: string;
  /** the terminal's own code for the event (`5/75` Hikvision major/minor, `ErrorCode 96` Dahua) */
  terminalCode?: string;
  /** the terminal's own time for it, as it sent it */
  terminalTime?: string;
}
/** Who moved a lane: a person or system by command, or the gateway's own safety logic. */
export type LaneActor = 'console' | 'remote' | 'camera' | 'schedule' | 'qr' | 'card' | 'fire-alarm' | 'fire-alarm-cleared' | 'safety-loop' | 'auto-close';

/** The data of each event type. Adding a type here is how a new event becomes typed everywhere. */
export interface EventData {
  'gateway.started': { version: string; devices: number };
  'gateway.stopping': { reason: string };
  'door.unlocked': { by: UnlockSource; user?: string; durationMs?: number; extended?: boolean } & CredentialData;
  /** a credential refused: nothing moved (`door` or `lane`: where it was shown, when known) */
  'access.denied': { by: CredentialSource; reason: AccessRefusal; door?: string; lane?: string } & CredentialData;
  'door.locked': { by: UnlockSource | 'timeout' | 'shutdown' | 'startup' | 'fire-alarm-cleared'; user?: string };
  'door.opened': { locked: boolean };
  'door.closed': { openMs: number };
  'door.forced': Record<string, never>;
  'door.held-open': { openMs: number; heldOpenMs: number };
  'vehicle.entry': VehicleData;
  /** `feeWithheld`: no fee computed, the stay was measured on a clock not synchronised since boot */
  'vehicle.exit': VehicleData & { durationSec?: number; feeCents?: number; feeWithheld?: 'clock-unsynced' };
  /** staff, the platform or the timeout decided on a vehicle held as `pending` */
  'vehicle.decided': {
    pendingId: string;
    plate: string;
    lane: string;
    direction: 'in' | 'out';
    decision: 'granted' | 'denied';
    by: 'console' | 'remote' | 'timeout';
    user?: string;
    /** the id of the vehicle.entry / vehicle.exit event that recorded the wait */
    eventId?: string;
    durationSec?: number;
    feeCents?: number;
    laneError?: string;
  };
  'barrier.opened': { by: LaneActor; user?: string } & CredentialData;
  'barrier.closed': { by: LaneActor; user?: string };
  'barrier.blocked': { reason: string; by?: LaneActor; user?: string };
  'bollard.lowered': { by: LaneActor; user?: string } & CredentialData;
  'bollard.raised': { by: LaneActor; user?: string };
  'bollard.blocked': { reason: string; by?: LaneActor; user?: string };
  'bollard.fault': { reason: string; travelMs: number };
  /** `missing`: values this meter does not have (it refused their registers), tried again now and then */
  'meter.reading': { values: Record<string, number>; flags?: string[]; missing?: string[] };
  'alarm.raised': { kind: string };
  'alarm.cleared': { kind: string; durationMs: number; changes: number };
  'fire-alarm.raised': Record<string, never>;
  'fire-alarm.cleared': { durationMs: number };
  'device.fault': { code: FaultCode; message?: string };
  'device.recovered': { code: FaultCode };
  'audit.login': { user: string; address?: string };
  'audit.login-failed': { user: string; address?: string; reason: string };
  /** every command: accepted ones, and refused ones (`suppressed`: refusals left unrecorded before this one, rate limit) */
  'audit.command': { id: string; action: string; by?: string; device?: string; ok: boolean; error?: string; suppressed?: number };
  /**
   * remote configuration: an apply (refused, applying, applied, confirmed, or rolled back with
   * the reason), a config.get, or the site file edited by hand (`edited-on-disk`)
   */
  'audit.config': {
    id?: string;
    action: 'config.apply' | 'config.get' | 'edited-on-disk';
    ok: boolean;
    phase?: 'applying' | 'applied' | 'confirmed';
    /** the version asked for (apply) or running (get, edited-on-disk) */
    version: number;
    previousVersion?: number;
    /** after a roll back: the version that runs again */
    runningVersion?: number;
    sha256: string;
    previousSha256?: string;
    rolledBack?: boolean;
    reason?: string;
    error?: string;
    problems?: string[];
  };
  /**
   * an `upgrade`: refused (error, reason), installed (about to restart into it), confirmed healthy,
   * or rolled back (reason); `running` is the version that reports it
   */
  'audit.upgrade': {
    id?: string;
    ok: boolean;
    phase?: 'installed' | 'confirmed';
    version: string;
    running: string;
    rolledBack?: boolean;
    reason?: string;
    error?: string;
  };
  /** the clock was found not synchronised (at start, or lost) */
  'clock.unsynced': { source: string };
  /**
   * the clock is synchronised: events flagged clockSynced false were made on a clock that was
   * `correctionMs` off (add it to their time), as far as the monotonic clock can tell
   */
  'clock.synced': { source: string; correctionMs: number; unsyncedSince: string };
  /** the wall clock stepped against the monotonic clock (a manual set, NTP stepping) */
  'clock.jumped': { jumpMs: number; from: string; to: string };
  'storage.pressure': { usedBytes: number; maxBytes: number };
  'storage.dropped': { count: number; reason: string };
  'storage.error': { condition: string; message?: string };
  'storage.recovered': Record<string, never>;
  'storage.corrupt': { movedTo: string };
  /** staff or the platform set a car park's count of temporary cars inside (spaces.set) */
  'car-park.corrected': { carPark: string; used: number; was: number; capacity: number; by: 'console' | 'remote'; user?: string };
}

/** Why a credential was refused (docs/credentials.md). */
export type AccessRefusal =
  | 'unreadable'
  | 'malformed'
  | 'bad-signature'
  | 'not-configured'
  | 'not-accepted'
  | 'revoked'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-door'
  | 'used-up'
  | 'not-recorded'
  | 'clock-unsynced'
  | 'not-listed'
  | 'outside-schedule'
  | 'fire-alarm'
  | 'door-fault'
  | 'refused-by-terminal';

export const ACCESS_REFUSALS = [
  'unreadable',
  'malformed',
  'bad-signature',
  'not-configured',
  'not-accepted',
  'revoked',
  'not-yet-valid',
  'expired',
  'wrong-door',
  'used-up',
  'not-recorded',
  'clock-unsynced',
  'not-listed',
  'outside-schedule',
  'fire-alarm',
  'door-fault',
  'refused-by-terminal',
] as const satisfies readonly AccessRefusal[];
type MissingRefusal = Exclude<AccessRefusal, (typeof ACCESS_REFUSALS)[number]>;
const everyRefusalListed: [MissingRefusal] extends [never] ? true : MissingRefusal = true;
void everyRefusalListed;

export interface VehicleData {
  plate: string;
  confidence: number;
  lane: string;
  decision: 'granted' | 'denied' | 'pending';
  reason: string;
  visitor: boolean;
  /** the camera's text when normalising changed it (full-width, separators, case) */
  rawPlate?: string;
  /** the plate does not have a recognised Chinese plate shape (still decided on as read) */
  unusualPlate?: boolean;
  plateColor?: string;
  cameraTime?: string;
  /** a resend of an old read (recorded; the lane was not moved) */
  late?: boolean;
  /** granted, but the lane refused or could not be reached */
  laneError?: string;
  /** a vehicle held for staff: the id to decide it by */
  pendingId?: string;
  /** monthly | owner | free | blocked as listed, or temporary (not listed) */
  class?: string;
  /** a listed car charged as temporary (its monthly ran out, its household's spaces are taken) */
  chargedAs?: 'temporary';
  /** the car park this lane counts for */
  carPark?: string;
  /** an entry of a car already inside (passback.alreadyInside) */
  alreadyInside?: true;
  /** an exit with no entry on record (passback.neverEntered) */
  neverEntered?: true;
  /** a monthly car: whole days until its end date */
  daysLeft?: number;
  /** the camera's own list verdict (Hikvision vehicleListName): allow | block | other, as recorded, not obeyed */
  cameraList?: string;
}

export type EventType = keyof EventData;

/** Every event type, at run time (the console translates each; the compiler checks the list is whole). */
export const EVENT_TYPES = [
  'gateway.started',
  'gateway.stopping',
  'door.unlocked',
  'access.denied',
  'door.locked',
  'door.opened',
  'door.closed',
  'door.forced',
  'door.held-open',
  'vehicle.entry',
  'vehicle.exit',
  'vehicle.decided',
  'barrier.opened',
  'barrier.closed',
  'barrier.blocked',
  'bollard.lowered',
  'bollard.raised',
  'bollard.blocked',
  'bollard.fault',
  'meter.reading',
  'alarm.raised',
  'alarm.cleared',
  'fire-alarm.raised',
  'fire-alarm.cleared',
  'device.fault',
  'device.recovered',
  'audit.login',
  'audit.login-failed',
  'audit.command',
  'audit.config',
  'audit.upgrade',
  'clock.unsynced',
  'clock.synced',
  'clock.jumped',
  'storage.pressure',
  'storage.dropped',
  'storage.error',
  'storage.recovered',
  'storage.corrupt',
  'car-park.corrected',
] as const satisfies readonly EventType[];
type MissingEventType = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyEventListed: [MissingEventType] extends [never] ? true : MissingEventType = true;
void everyEventListed;

/**
 * The version of the envelope and event vocabulary, on every event and reading (`schema`), so a
 * fleet's consumers can tell versions apart. Adding event types or data keys keeps it;
 * renaming or removing anything would raise it.
 */
export const EVENT_SCHEMA = 1;

/** An event as made by a device, before the journal gives it a sequence number. */
export interface GatewayEvent<T extends EventType = EventType> {
  id: string;
  time: string;
  type: T;
  site: string;
  gateway: string;
  device: string;
  schema: number;
  /** false when the gateway's clock was not synchronised when the event was made (absent: it was) */
  clockSynced?: false;
  data: EventData[T];
}

/** An event as journaled and sent upstream. */
export interface JournaledEvent<T extends EventType = EventType> extends GatewayEvent<T> {
  seq: number;
  historical: boolean;
}

export type EventMaker = <T extends EventType>(type: T, device: string, data: EventData[T]) => GatewayEvent<T>;

/** Makes envelopes for one gateway: ULID ids, monotonic even within one millisecond. */
export function eventMaker(site: string, gateway: string, clock: Clock): EventMaker {
  const ulid = ulidFactory();
  return (type, device, data) => {
    const now = clock.now();
    const event: GatewayEvent = { id: ulid(now), time: new Date(now).toISOString(), type, site, gateway, device, schema: EVENT_SCHEMA, data };
    // Made on a clock not yet synchronised since boot: the time may be off (clock.synced says by how much).
    if (!clockTrusted(clock)) event.clockSynced = false;
    return event as GatewayEvent<typeof type>;
  };
}
