/**
 * The cars inside (CONTRACT 8, docs/parking.md): one stay per plate, from its entry to its exit,
 * in entry order, kept in `stays.json` (one per line, written in the background). A temporary
 * stay holds a space of its car park from entry to exit. Stays are personal data: one older than
 * STAY_MAX_DAYS is forgotten (a car that left unseen), and at most MAX_STAYS are kept.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { VehicleClass } from '../schema/sections.js';
import type { Clock } from '../core/clock.js';
import { clockTrusted } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';
import type { CarParks } from './car-parks.js';

export interface Stay {
  plate: string;
  /** ms since the epoch */
  enteredAt: number;
  lane: string;
  camera: string;
  visitor: boolean;
  /** entered while the clock was not synchronised: its duration cannot be trusted for a fee */
  unsyncedClock?: true;
  /** the car's class when it entered (absent in stays saved before classes: read as visitor ? temporary : owner) */
  class?: VehicleClass;
  /** charged as temporary at exit and holding a space of `carPark` (absent: as `visitor`) */
  temporary?: boolean;
  carPark?: string;
  /** its household (一位多车), to count the household's cars inside */
  group?: string;
}

/** What a stay is entered as. */
export type StayInfo = Pick<Stay, 'visitor' | 'class' | 'temporary' | 'carPark' | 'group'>;

/** Whether a stay is charged as temporary and holds a space (stays saved before classes: as `visitor`). */
export const temporaryStay = (stay: Stay) => stay.temporary ?? stay.visitor;

const staysFile = z.strictObject({
  stays: z.array(
    z.strictObject({
      plate: z.string(),
      enteredAt: z.number(),
      lane: z.string(),
      camera: z.string(),
      visitor: z.boolean(),
      unsyncedClock: z.literal(true).optional(),
      class: z.enum(['monthly', 'owner', 'free', 'blocked', 'temporary']).optional(),
      temporary: z.boolean().optional(),
      carPark: z.string().optional(),
      group: z.string().optional(),
    }),
  ),
});

/** Stays are personal data: one older than this is forgotten (a car that left unseen). */
export const STAY_MAX_DAYS = 30;
const MAX_STAYS = 50_000;

export class Stays {
  private readonly stays = new Map<string, Stay>();
  private readonly file: JsonFile<z.output<typeof staysFile>> | undefined;

  constructor(
    dataDir: string | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly carParks: CarParks,
  ) {
    this.file = dataDir
      ? new JsonFile(join(dataDir, 'stays.json'), {
          mode: 0o600,
          delayMs: 1000,
          // one stay per line: readable, and cheap to write with thousands of cars inside
          format: (v) => `{"stays": [${v.stays.map((stay: Stay) => `\n  ${JSON.stringify(stay)}`).join(',')}${v.stays.length ? '\n' : ''}]}`,
          onError: (err) => log.error({ err: errorMessage(err) }, 'open stays could not be saved; kept in memory'),
        })
      : undefined;
  }

  /** Loads the saved stays; an unreadable file is moved aside and reported. */
  load(): { movedTo: string; reason: string } | undefined {
    if (!this.file) return undefined;
    const result = this.file.load((v) => staysFile.parse(v));
    if (!result.ok) this.log.error({ movedTo: result.movedTo, reason: result.reason }, 'stays.json was unreadable and was moved aside');
    else for (const stay of result.value?.stays ?? []) this.stays.set(stay.plate, stay);
    this.forgetOld();
    return result.ok ? undefined : { movedTo: result.movedTo, reason: result.reason };
  }

  get(plate: string): Stay | undefined {
    return this.stays.get(plate);
  }

  has(plate: string): boolean {
    return this.stays.has(plate);
  }

  list(): Stay[] {
    return [...this.stays.values()];
  }

  /** Temporary cars inside a car park (its count when none is saved). */
  temporaryIn(park: string): number {
    let n = 0;
    for (const s of this.stays.values()) if (s.carPark === park && temporaryStay(s)) n++;
    return n;
  }

  /** The household's other cars inside on its own spaces. */
  householdInside(group: string, plate: string): number {
    let n = 0;
    for (const stay of this.stays.values()) if (stay.group === group && stay.plate !== plate && !temporaryStay(stay)) n++;
    return n;
  }

  /** A car came in; a temporary one takes a space of its lane's car park. */
  record(plate: string, camera: { id: string; lane: string }, now: number, info: StayInfo): void {
    // A car entering again without an exit between means its exit was missed (or it turned back
    // at the gate): the new entry starts the stay, so a missed exit is never charged for.
    if (!this.stays.has(plate) && this.stays.size >= MAX_STAYS) this.forgetOld(true);
    const park = this.carParks.of(camera.lane)?.id;
    this.close(plate, false); // re-inserted last: the map stays in entry order
    const stay: Stay = {
      plate,
      enteredAt: now,
      lane: camera.lane,
      camera: camera.id,
      visitor: info.visitor,
      ...(clockTrusted(this.clock) ? {} : { unsyncedClock: true as const }),
      ...(info.class ? { class: info.class } : {}),
      temporary: info.temporary ?? info.visitor,
      ...(park ? { carPark: park } : {}),
      ...(info.group !== undefined ? { group: info.group } : {}),
    };
    this.stays.set(plate, stay);
    if (park && stay.temporary) this.carParks.take(park);
    this.save();
  }

  /** A car left; a temporary one gives its space back. */
  close(plate: string, save = true): void {
    const stay = this.stays.get(plate);
    if (!stay) return;
    this.stays.delete(plate);
    if (stay.carPark && temporaryStay(stay) && this.carParks.has(stay.carPark)) this.carParks.release(stay.carPark);
    if (save) this.save();
  }

  save(): void {
    void this.file?.save({ stays: [...this.stays.values()] });
  }

  async flush(): Promise<void> {
    await this.file?.flush();
  }

  private forgetOld(evenRecent = false): void {
    const horizon = this.clock.now() - STAY_MAX_DAYS * 86_400_000;
    let forgotten = 0;
    for (const [plate, stay] of this.stays) {
      if (stay.enteredAt < horizon || (evenRecent && forgotten === 0)) {
        this.stays.delete(plate);
        forgotten++;
      }
    }
    if (forgotten) this.save();
  }
}
