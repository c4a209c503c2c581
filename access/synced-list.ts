/**
 * A list the platform keeps in sync on the gateway (residents' plates, residents' cards), in two
 * layers: the installer's entries from the site config always apply; the platform's layer is kept
 * in a file in the data dir (human-readable, written atomically) so decisions survive restarts and
 * outages. The platform's list carries a version: a change older than the list's version is
 * refused (`stale-version`), so a delayed or replayed sync never undoes a newer one. Lookups are in
 * memory; saving never delays a decision.
 *
 * One implementation for every synced list, so the versioning and persistence rules cannot drift
 * between plates and cards.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';

export type EntrySource = 'config' | 'upstream';

export type ListChange = { ok: true; version: number; count: number } | { ok: false; error: 'stale-version' | 'invalid'; message: string };

export interface SyncedListOptions<E> {
  /** the list's name: the key of its entries in commands and in its file (`plates`, `cards`) */
  what: string;
  /** one entry, as the config and the platform write it */
  entry: z.ZodType<E, unknown>;
  /** an entry's normalised key (a plate, a card number); null when it has none */
  keyOf(raw: string): string | null;
  /** the key field of an entry */
  keyField: keyof E & string;
  /** what a key is called in messages: `plate number` */
  keyName: string;
  /** how an entry is written, for messages: `{ plate, lanes?, until?, name? }` */
  shape: string;
  /** the file in the data dir */
  file: string;
  /** the most entries the platform may keep here */
  max: number;
}

export class SyncedList<E extends object> {
  protected readonly configured = new Map<string, E & { source: EntrySource }>();
  protected readonly upstream = new Map<string, E & { source: EntrySource }>();
  private currentVersion = 0;
  private readonly file: JsonFile<Record<string, unknown>>;
  private readonly persist: boolean;
  private readonly fileSchema: z.ZodType<{ version: number; updatedAt?: string | undefined; entries: E[] }, unknown>;

  constructor(
    private readonly o: SyncedListOptions<E>,
    configEntries: readonly E[],
    dataDir: string | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    for (const entry of configEntries) {
      const key = o.keyOf(String(entry[o.keyField]));
      if (key) this.configured.set(key, { ...entry, [o.keyField]: key, source: 'config' });
    }
    this.file = new JsonFile(join(dataDir ?? '.', o.file), {
      onError: (err) => this.log.error({ err: errorMessage(err) }, `${o.what} list could not be saved; it is kept in memory and saved with the next change`),
    });
    this.persist = dataDir !== undefined;
    this.fileSchema = z
      .strictObject({ version: z.int().min(0), updatedAt: z.string().optional(), [o.what]: z.array(o.entry) })
      .transform((v) => ({ version: v.version as number, updatedAt: v.updatedAt as string | undefined, entries: v[o.what] as E[] }));
  }

  /** Reads the file; a corrupt file is moved aside and reported, and the config entries still apply. */
  load(): { movedTo?: string; reason?: string } {
    if (!this.persist) return {};
    const result = this.file.load((v) => this.fileSchema.parse(v));
    if (!result.ok) {
      this.log.error({ movedTo: result.movedTo, reason: result.reason }, `${this.o.file} was unreadable and was moved aside`);
      return { movedTo: result.movedTo, reason: result.reason };
    }
    const value = result.value as { version: number; entries: E[] } | undefined;
    if (value) {
      this.currentVersion = value.version;
      this.fill(value.entries);
    }
    return {};
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Counts every change to the list (indexes built over it know when to rebuild). */
  get revision(): number {
    return this.changes;
  }
  private changes = 0;

  get size(): number {
    return new Set([...this.configured.keys(), ...this.upstream.keys()]).size;
  }

  /** The entry for a normalised key: the config's wins over the platform's. */
  protected find(key: string): (E & { source: EntrySource }) | undefined {
    return this.configured.get(key) ?? this.upstream.get(key);
  }

  list(): Array<E & { source: EntrySource }> {
    const out = [...this.configured.values()];
    for (const [key, entry] of this.upstream) if (!this.configured.has(key)) out.push(entry);
    return out;
  }

  upsert(entries: unknown, version?: number): ListChange {
    const parsed = this.parseEntries(entries);
    if (!parsed.ok) return parsed;
    const stale = this.staleness(version);
    if (stale) return stale;
    if (this.upstream.size + parsed.entries.length > this.o.max) return invalid(`the list would exceed ${this.o.max} ${this.o.what}`);
    for (const entry of parsed.entries) this.upstream.set(String(entry[this.o.keyField]), { ...entry, source: 'upstream' });
    return this.changed(version, parsed.entries.length);
  }

  remove(keys: unknown, version?: number): ListChange {
    const what = this.o.what;
    if (!Array.isArray(keys) || keys.length > this.o.max) return invalid(`${what}: expected a list of ${this.o.keyName}s`);
    const normalised: string[] = [];
    for (const [i, k] of keys.entries()) {
      const key = typeof k === 'string' ? this.o.keyOf(k) : null;
      if (!key) return invalid(`${what}[${i}]: expected a ${this.o.keyName}`);
      normalised.push(key);
    }
    const stale = this.staleness(version);
    if (stale) return stale;
    let removed = 0;
    for (const key of normalised) if (this.upstream.delete(key)) removed++;
    return this.changed(version, removed);
  }

  /** Replaces the platform's whole list; `version` is required and must not be older than the list's. */
  replace(entries: unknown, version: unknown): ListChange {
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

  private fill(entries: readonly E[]): void {
    this.changes++;
    for (const entry of entries) {
      const key = this.o.keyOf(String(entry[this.o.keyField]));
      if (key) this.upstream.set(key, { ...entry, [this.o.keyField]: key, source: 'upstream' });
    }
  }

  private staleness(version: number | undefined): ListChange | undefined {
    if (version === undefined) return undefined;
    if (!Number.isSafeInteger(version) || version < 0) return invalid('version: expected a non-negative integer');
    if (version < this.currentVersion) {
      return { ok: false, error: 'stale-version', message: `version ${version} is older than the list's version ${this.currentVersion}` };
    }
    return undefined;
  }

  private changed(version: number | undefined, count: number): ListChange {
    this.changes++;
    if (version !== undefined) this.currentVersion = version;
    if (this.persist) {
      const entries = [...this.upstream.values()].map(({ source: _source, ...entry }) => entry);
      void this.file.save({ version: this.currentVersion, updatedAt: new Date(this.clock.now()).toISOString(), [this.o.what]: entries });
    }
    return { ok: true, version: this.currentVersion, count };
  }

  private parseEntries(entries: unknown): { ok: true; entries: E[] } | (ListChange & { ok: false }) {
    const what = this.o.what;
    if (!Array.isArray(entries)) return invalid(`${what}: expected a list of ${this.o.shape}`);
    if (entries.length > this.o.max) return invalid(`${what}: at most ${this.o.max} entries`);
    const out: E[] = [];
    for (const [i, raw] of entries.entries()) {
      const result = this.o.entry.safeParse(raw);
      if (!result.success) {
        const issue = result.error.issues[0];
        const path = [`${what}[${i}]`, ...(issue?.path ?? []).map(String)].join('.');
        return invalid(`${path}: ${issue?.message ?? 'invalid'}`);
      }
      const given = String(result.data[this.o.keyField]);
      const key = this.o.keyOf(given);
      if (!key) return invalid(`${what}[${i}].${this.o.keyField}: expected a ${this.o.keyName}, got ${JSON.stringify(given)}`);
      out.push({ ...result.data, [this.o.keyField]: key });
    }
    return { ok: true, entries: out };
  }
}

function invalid(message: string): ListChange & { ok: false } {
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

/** The first moment a `from` allows: a bare date starts at midnight local time; a time is exact. */
export function startOf(from: string): number {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(from);
  if (dateOnly) return new Date(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3])).getTime();
  return Date.parse(from);
}
