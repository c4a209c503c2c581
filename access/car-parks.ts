/**
 * Car parks and their spaces (CONTRACT 8, docs/parking.md): each has a capacity for temporary
 * cars and the lanes that count cars in and out. A temporary car entering takes a space, leaving
 * gives it back; owners, monthly and free cars have spaces of their own and do not count. Counts
 * drift in the field (a car tailgating through, a read missed), so staff or the platform set
 * them (`spaces.set`). Kept in `car-parks.json`, written in the background.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { CarParkConfig } from '../schema/sections.js';
import { errorMessage } from '../core/errors.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';

export interface CarParkState {
  id: string;
  name?: string;
  capacity: number;
  used: number;
  /** spaces left for temporary cars (never below 0) */
  free: number;
  full: boolean;
}

const countsFile = z.strictObject({ used: z.record(z.string(), z.int().min(0)) });

export class CarParks {
  private readonly byLane = new Map<string, CarParkConfig>();
  private readonly used = new Map<string, number>();
  private readonly file: JsonFile<z.output<typeof countsFile>> | undefined;

  constructor(
    private readonly parks: readonly CarParkConfig[],
    dataDir: string | undefined,
    private readonly log: Logger,
    /** told when a car park's count changed (its retained state, the console) */
    private readonly changed: (park: CarParkState) => void = () => undefined,
  ) {
    for (const park of parks) for (const lane of park.lanes) this.byLane.set(lane, park);
    this.file =
      dataDir && parks.length
        ? new JsonFile(join(dataDir, 'car-parks.json'), {
            delayMs: 500,
            onError: (err) => log.error({ err: errorMessage(err) }, 'car park counts could not be saved; kept in memory'),
          })
        : undefined;
  }

  /**
   * Loads the saved counts; a car park with none saved starts from `initial` (the temporary cars
   * the open stays say are inside). An unreadable file is moved aside and reported.
   */
  load(initial: (park: string) => number): { movedTo: string; reason: string } | undefined {
    const result = this.file?.load((v) => countsFile.parse(v));
    if (result && !result.ok) this.log.error({ movedTo: result.movedTo, reason: result.reason }, 'car-parks.json was unreadable and was moved aside');
    const saved = result?.ok ? result.value?.used : undefined;
    for (const park of this.parks) this.used.set(park.id, saved?.[park.id] ?? initial(park.id));
    return result && !result.ok ? { movedTo: result.movedTo, reason: result.reason } : undefined;
  }

  /** The car park a lane counts for, if any. */
  of(lane: string): CarParkConfig | undefined {
    return this.byLane.get(lane);
  }

  has(id: string): boolean {
    return this.parks.some((p) => p.id === id);
  }

  isFull(id: string): boolean {
    const park = this.parks.find((p) => p.id === id);
    return park !== undefined && (this.used.get(id) ?? 0) >= park.capacity;
  }

  /** A temporary car came in. */
  take(id: string): void {
    this.set(id, (this.used.get(id) ?? 0) + 1);
  }

  /** A temporary car left (a count never goes below 0: that exit's entry was never counted). */
  release(id: string): void {
    this.set(id, Math.max(0, (this.used.get(id) ?? 0) - 1));
  }

  /**
   * Sets a car park's count; false when there is no such car park. `durable`: on disk before it
   * returns (staff's and the platform's corrections are answered only once they are kept).
   */
  set(id: string, used: number, durable = false): boolean {
    if (!this.has(id)) return false;
    this.used.set(id, used);
    const value = { used: Object.fromEntries(this.used) };
    void this.file?.save(value);
    // the queued write carries the same value, so it can never put an older count back
    if (durable) this.file?.saveSync(value);
    this.changed(this.state(id)!);
    return true;
  }

  state(id: string): CarParkState | undefined {
    const park = this.parks.find((p) => p.id === id);
    if (!park) return undefined;
    const used = this.used.get(id) ?? 0;
    return {
      id,
      ...(park.name ? { name: park.name } : {}),
      capacity: park.capacity,
      used,
      free: Math.max(0, park.capacity - used),
      full: used >= park.capacity,
    };
  }

  states(): CarParkState[] {
    return this.parks.map((p) => this.state(p.id)!);
  }

  async flush(): Promise<void> {
    await this.file?.flush();
  }
}

/** A car park's retained state, `P/state/{carParkId}` (CONTRACT 8): `{capacity, used}` and what follows from them. */
export function carParkState(park: CarParkState): Record<string, unknown> {
  return { capacity: park.capacity, used: park.used, free: park.free, full: park.full, ...(park.name ? { name: park.name } : {}) };
}
