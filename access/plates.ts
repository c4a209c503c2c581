/**
 * The plate allowlist: residents' cars, from the site config and from the platform
 * (`plates.upsert`, `plates.remove`, `plates.replace` commands, `PUT /api/plates`), kept in
 * `plates.json` in the data dir. Versioning and persistence are the synced list's
 * (access/synced-list.ts); this file says what a plate entry allows.
 */
import type { z } from 'zod';
import { plateEntry } from '../schema/sections.js';
import type { VehicleClass } from '../schema/sections.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { normalizePlate } from './plate.js';
import type { EntrySource, ListChange } from './synced-list.js';
import { SyncedList, endOf } from './synced-list.js';

export { endOf } from './synced-list.js';

export type PlateEntry = z.output<typeof plateEntry>;
export type PlateSource = EntrySource;

export interface AllowedEntry extends PlateEntry {
  source: PlateSource;
}

export type PlateCheck =
  | { allowed: true; entry: AllowedEntry }
  | { allowed: false; reason: 'not-listed' | 'lane-not-allowed' | 'expired'; entry?: AllowedEntry };

export type PlateChange = ListChange;

/** A listed car's class: as given, else monthly when it has an end date, else an owner's car. */
export function classOf(entry: PlateEntry): Exclude<VehicleClass, 'temporary'> {
  return entry.class ?? (entry.until !== undefined ? 'monthly' : 'owner');
}

/** The most entries the platform may keep here (a Pi holds this many in memory easily). */
export const MAX_PLATES = 100_000;

export class PlateList extends SyncedList<PlateEntry> {
  constructor(configPlates: readonly PlateEntry[], dataDir: string | undefined, clock: Clock, log: Logger) {
    super(
      {
        what: 'plates',
        entry: plateEntry,
        keyField: 'plate',
        keyName: 'plate number',
        keyOf: (p) => normalizePlate(p).plate,
        shape: '{ plate, class?, lanes?, until?, group?, spaces?, name? }',
        file: 'plates.json',
        max: MAX_PLATES,
      },
      configPlates,
      dataDir,
      clock,
      log,
    );
  }

  private groups: { key: string; spaces: Map<string, number> } | undefined;

  /**
   * The spaces a household owns (一位多车): the largest `spaces` any of its entries gives, or
   * undefined when none does (no limit). Indexed once per change of the list.
   */
  groupSpaces(group: string): number | undefined {
    const key = `${this.revision}`;
    if (this.groups?.key !== key) {
      const spaces = new Map<string, number>();
      for (const e of this.list()) {
        if (e.group !== undefined && e.spaces !== undefined) spaces.set(e.group, Math.max(spaces.get(e.group) ?? 0, e.spaces));
      }
      this.groups = { key, spaces };
    }
    return this.groups.spaces.get(group);
  }

  /** Whether `plate` (normalised) may use `lane` at time `now`. Config entries win over the platform's. */
  check(plate: string, lane: string, now: number): PlateCheck {
    const entry = this.find(plate);
    if (!entry) return { allowed: false, reason: 'not-listed' };
    if (entry.until !== undefined && now > endOf(entry.until)) return { allowed: false, reason: 'expired', entry };
    if (entry.lanes && !entry.lanes.includes(lane)) return { allowed: false, reason: 'lane-not-allowed', entry };
    return { allowed: true, entry };
  }
}
