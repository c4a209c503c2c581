/**
 * Visitor parking fees (access.tariff): free minutes, an hourly rate charged per started hour,
 * and an optional cap per 24 hours.
 *
 * Rules, as estates in China usually post them (停车收费标准):
 * - a stay of at most `freeMinutes` is free; a longer one is charged from the moment of entry
 *   (the free minutes are a grace period, not a discount);
 * - every started hour costs `perHourCents`;
 * - with `dailyCapCents`, each full 24 hours since entry costs at most the cap, and the hours of
 *   the last, started period cost at most the cap too. Periods run from the time of entry, so a
 *   stay that crosses midnight is not charged twice for it.
 */

export interface Tariff {
  freeMinutes: number;
  perHourCents: number;
  dailyCapCents?: number | undefined;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The fee in cents for a stay of `durationSec` seconds (negative durations count as 0). */
export function feeCents(durationSec: number, tariff: Tariff): number {
  const seconds = Math.max(0, Math.floor(durationSec));
  if (seconds <= tariff.freeMinutes * 60) return 0;
  const cap = tariff.dailyCapCents;
  if (cap === undefined) return Math.ceil(seconds / HOUR) * tariff.perHourCents;
  const fullDays = Math.floor(seconds / DAY);
  const rest = seconds - fullDays * DAY;
  const dayCost = Math.min(cap, 24 * tariff.perHourCents);
  return fullDays * dayCost + Math.min(cap, Math.ceil(rest / HOUR) * tariff.perHourCents);
}
