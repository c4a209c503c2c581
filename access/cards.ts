/**
 * Residents' cards: from the site config (`access.cards`) and from the platform (`cards.upsert`,
 * `cards.remove`, `cards.replace` commands), kept in `cards.json` in the data dir, versioned like
 * the plate list (access/synced-list.ts). Each card may be limited to doors, to a validity period
 * and to weekly windows in the gateway's local time (docs/credentials.md, "Cards").
 */
import type { z } from 'zod';
import { cardEntry } from '../schema/sections.js';
import type { CanonicalCard } from './card-format.js';
import { low24Of } from './card-format.js';
import type { Clock } from '../core/clock.js';
import { clockTrusted } from '../core/clock.js';
import type { AccessRefusal } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { EntrySource } from './synced-list.js';
import { SyncedList, endOf, startOf } from './synced-list.js';

export type CardEntry = z.output<typeof cardEntry>;

export const MAX_CARDS = 100_000;

/**
 * A card number as lists and readers write it, made comparable: separators and case dropped,
 * leading zeros dropped (one reader pads `0012345678`, another sends `12345678`). Decimal and hex
 * forms of one card stay different: the list must use the form its readers give.
 */
export function normalizeCard(text: string): string | null {
  const s = text
    .trim()
    .replace(/[\s:-]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{1,24}$/.test(s)) return null;
  return s.replace(/^0+(?=.)/, '');
}

export type CardCheck = { ok: true; entry: CardEntry } | { ok: false; reason: AccessRefusal };

export class CardList extends SyncedList<CardEntry> {
  constructor(
    configCards: readonly CardEntry[],
    dataDir: string | undefined,
    private readonly cardClock: Clock,
    log: Logger,
  ) {
    super(
      {
        what: 'cards',
        entry: cardEntry,
        keyField: 'card',
        keyName: 'card number',
        keyOf: normalizeCard,
        shape: '{ card, doors?, from?, until?, schedule?, name? }',
        file: 'cards.json',
        max: MAX_CARDS,
      },
      configCards,
      dataDir,
      cardClock,
      log,
    );
  }

  private low24: { revision: number; index: Map<string, CardEntry & { source: EntrySource }> } | undefined;

  /** The entry whose card's low 24 bits are `value` (a Wiegand 26 read), indexed once per change of the list. */
  private findLow24(value: string): (CardEntry & { source: EntrySource }) | undefined {
    if (this.low24?.revision !== this.revision) {
      const index = new Map<string, CardEntry & { source: EntrySource }>();
      for (const e of this.list()) {
        const low = low24Of(normalizeCard(e.card) ?? '');
        if (low !== undefined && !index.has(low)) index.set(low, e);
      }
      this.low24 = { revision: this.revision, index };
    }
    return this.low24.index.get(value);
  }

  /**
   * Whether the card opens `door` now: `card` normalised, or a read in the list's form
   * (access/card-format.ts), which for a Wiegand 26 reader is only the card's low 24 bits.
   */
  check(card: string | CanonicalCard, door: string): CardCheck {
    const read = typeof card === 'string' ? { card } : card;
    const entry = read.low24 ? this.findLow24(read.card) : this.find(read.card);
    if (!entry) return { ok: false, reason: 'not-listed' };
    if (entry.doors && !entry.doors.includes(door)) return { ok: false, reason: 'wrong-door' };
    const timed = entry.from !== undefined || entry.until !== undefined || entry.schedule !== undefined;
    if (!timed) return { ok: true, entry };
    // A card limited in time cannot be judged on a clock not synchronised since boot.
    if (!clockTrusted(this.cardClock)) return { ok: false, reason: 'clock-unsynced' };
    const now = this.cardClock.now();
    if (entry.from !== undefined && now < startOf(entry.from)) return { ok: false, reason: 'not-yet-valid' };
    if (entry.until !== undefined && now > endOf(entry.until)) return { ok: false, reason: 'expired' };
    if (entry.schedule && !inSchedule(entry.schedule, new Date(now))) return { ok: false, reason: 'outside-schedule' };
    return { ok: true, entry };
  }
}

/** Whether local time `at` falls in one of the weekly windows (days 1 = Monday .. 7 = Sunday; `to` excluded). */
export function inSchedule(schedule: NonNullable<CardEntry['schedule']>, at: Date): boolean {
  const day = at.getDay() === 0 ? 7 : at.getDay();
  const minute = at.getHours() * 60 + at.getMinutes();
  const yesterday = day === 1 ? 7 : day - 1;
  return schedule.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (from <= to) return w.days.includes(day) && minute >= from && minute < to;
    // A window past midnight (22:00-06:00 on Monday) runs from Monday 22:00 to Tuesday 06:00.
    return (w.days.includes(day) && minute >= from) || (w.days.includes(yesterday) && minute < to);
  });
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
