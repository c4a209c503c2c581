/**
 * The plate allowlist: residents' cars, from the site config and from the platform
 * (`plates.upsert`, `plates.remove`, `plates.replace` commands, `PUT /api/plates`).
 *
 * Two layers: config entries are the installer's and always apply; the platform's layer is kept
 * in `plates.json` in the data dir (human-readable, written atomically) so decisions survive
 * restarts and outages. The platform's list carries a version: a change with an older version
 * than the list has is refused (`stale-version`), so a delayed or replayed sync never undoes a
 * newer one. Lookups are in memory; saving never delays a decision.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { plateEntry } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';
import { normalizePlate } from './plate.js';

export type PlateEntry = z.output<typeof plateEntry>;
export type PlateSource = 'config' | 'upstream';

export interface AllowedEntry extends PlateEntry {
  source: PlateSource;
}

export type PlateCheck =
  | { allowed: true; entry: AllowedEntry }
  | { allowed: false; reason: 'not-listed' | 'lane-not-allowed' | 'expired'; entry?: AllowedEntry };

export type PlateChange =
  | { ok: true; version: number; count: number }
  | { ok: false; error: 'stale-version' | 'invalid'; message: string };

const platesFile = z.strictObject({
  version: z.int().min(0),
  updatedAt: z.string().optional(),
  plates: z.array(plateEntry),
});
type PlatesFile = z.output<typeof platesFile>;

/** The most entries the platform may keep here (a Pi holds this many in memory easily). */
export const MAX_PLATES = 100_000;

export class PlateList {
  private readonly configured = new Map<string, AllowedEntry>();
  private readonly upstream = new Map<string, AllowedEntry>();
  private currentVersion = 0;
  private readonly file: JsonFile<PlatesFile>;

  constructor(
    configPlates: readonly PlateEntry[],
    dataDir: string | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    for (const entry of configPlates) {
      const plate = normalizePlate(entry.plate).plate;
      if (plate) this.configured.set(plate, { ...entry, plate, source: 'config' });
    }
    this.file = new JsonFile(join(dataDir ?? '.', 'plates.json'), {
      onError: (err) => this.log.error({ err: errorMessage(err) }, 'plate list could not be saved; it is kept in memory and saved with the next change'),
    });
    this.persist = dataDir !== undefined;
  }

  private readonly persist: boolean;

  /** Reads plates.json; a corrupt file is moved aside and reported, and the config list still applies. */
  load(): { movedTo?: string; reason?: string } {
    if (!this.persist) return {};
    const result = this.file.load((v) => platesFile.parse(v));
    if (!result.ok) {
      this.log.error({ movedTo: result.movedTo, reason: result.reason }, 'plates.json was unreadable and was moved aside');
      return { movedTo: result.movedTo, reason: result.reason };
    }
    if (result.value) {
      this.currentVersion = result.value.version;
      this.fill(result.value.plates);
    }
    return {};
  }

  get version(): number {
    return this.currentVersion;
  }

  get size(): number {
    return new Set([...this.configured.keys(), ...this.upstream.keys()]).size;
  }

  /** Whether `plate` (normalised) may use `lane` at time `now`. Config entries win over the platform's. */
  check(plate: string, lane: string, now: number): PlateCheck {
    const entry = this.configured.get(plate) ?? this.upstream.get(plate);
    if (!entry) return { allowed: false, reason: 'not-listed' };
    if (entry.until !== undefined && now > endOf(entry.until)) return { allowed: false, reason: 'expired', entry };
    if (entry.lanes && !entry.lanes.includes(lane)) return { allowed: false, reason: 'lane-not-allowed', entry };
    return { allowed: true, entry };
  }

  list(): AllowedEntry[] {
    const out = [...this.configured.values()];
    for (const [plate, entry] of this.upstream) if (!this.configured.has(plate)) out.push(entry);
    return out;
  }

  upsert(entries: unknown, version?: number): PlateChange {
    const parsed = this.parseEntries(entries);
    if (!parsed.ok) return parsed;
    const stale = this.staleness(version);
    if (stale) return stale;
    if (this.upstream.size + parsed.entries.length > MAX_PLATES) return invalid(`the list would exceed ${MAX_PLATES} plates`);
    for (const entry of parsed.entries) this.upstream.set(entry.plate, { ...entry, source: 'upstream' });
    return this.changed(version, parsed.entries.length);
  }

  remove(plates: unknown, version?: number): PlateChange {
    if (!Array.isArray(plates) || plates.length > MAX_PLATES) return invalid('plates: expected a list of plate numbers');
    const keys: string[] = [];
    for (const [i, p] of plates.entries()) {
      const plate = typeof p === 'string' ? normalizePlate(p).plate : null;
      if (!plate) return invalid(`plates[${i}]: expected a plate number`);
      keys.push(plate);
    }
    const stale = this.staleness(version);
    if (stale) return stale;
    let removed = 0;
    for (const plate of keys) if (this.upstream.delete(plate)) removed++;
    return this.changed(version, removed);
  }

  /** Replaces the platform's whole list; `version` is required and must not be older than the list's. */
  replace(entries: unknown, version: unknown): PlateChange {
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
      return invalid('version: expected a non-negative integer');
    }
    const parsed = this.parseEntries(entries);
    if (!parsed.ok) return parsed;
    const stale = this.staleness(version);
    if (stale) return stale;
    this.upstream.clear();
    this.fill(parsed.entries);
    return this.changed(version, parsed.entries.length);
  }

  /** Resolves once the list on disk is the list in memory. */
  flush(): Promise<void> {
    return this.file.flush();
  }

  private fill(entries: readonly PlateEntry[]): void {
    for (const entry of entries) {
      const plate = normalizePlate(entry.plate).plate;
      if (plate) this.upstream.set(plate, { ...entry, plate, source: 'upstream' });
    }
  }

  private staleness(version: number | undefined): PlateChange | undefined {
    if (version === undefined) return undefined;
    if (!Number.isSafeInteger(version) || version < 0) return invalid('version: expected a non-negative integer');
    if (version < this.currentVersion) {
      return { ok: false, error: 'stale-version', message: `version ${version} is older than the list's version ${this.currentVersion}` };
    }
    return undefined;
  }

  private changed(version: number | undefined, count: number): PlateChange {
    if (version !== undefined) this.currentVersion = version;
    if (this.persist) {
      const plates = [...this.upstream.values()].map(({ source: _source, ...entry }) => entry);
      void this.file.save({ version: this.currentVersion, updatedAt: new Date(this.clock.now()).toISOString(), plates });
    }
    return { ok: true, version: this.currentVersion, count };
  }

  private parseEntries(entries: unknown): { ok: true; entries: PlateEntry[] } | PlateChange & { ok: false } {
    if (!Array.isArray(entries)) return invalid('plates: expected a list of { plate, lanes?, until?, name? }');
    if (entries.length > MAX_PLATES) return invalid(`plates: at most ${MAX_PLATES} entries`);
    const out: PlateEntry[] = [];
    for (const [i, raw] of entries.entries()) {
      const result = plateEntry.safeParse(raw);
      if (!result.success) {
        const issue = result.error.issues[0];
        const path = [`plates[${i}]`, ...(issue?.path ?? []).map(String)].join('.');
        return invalid(`${path}: ${issue?.message ?? 'invalid'}`);
      }
      const plate = normalizePlate(result.data.plate).plate;
      if (!plate) return invalid(`plates[${i}].plate: expected a plate number, got ${JSON.stringify(result.data.plate)}`);
      out.push({ ...result.data, plate });
    }
    return { ok: true, entries: out };
  }
}

function invalid(message: string): PlateChange & { ok: false } {
  return { ok: false, error: 'invalid', message };
}

/**
 * The last moment an `until` allows: a bare date lasts to the end of that day in the gateway's
 * local time (an estate's "valid until 31 December" means the whole day); a time is exact.
 */
export function endOf(until: string): number {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(until);
  if (dateOnly) return new Date(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]) + 1).getTime() - 1;
  return Date.parse(until);
}
