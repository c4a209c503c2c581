/**
 * The gateway's journal: its worker starts at once (it loads while the hardware connects) and
 * what happens to the storage under it (space running out, a disk that cannot be written, events
 * thinned to keep the budget) becomes storage.* events of the gateway.
 */
import type { SiteConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { Journal } from '../journal/journal.js';
import type { EventData } from '../core/events.js';
import type { Logger } from '../core/log.js';

type StorageEvent = 'storage.dropped' | 'storage.pressure' | 'storage.recovered' | 'storage.error';

/** Nothing is appended until the caller takes the journal into use. */
export function startJournal(
  config: SiteConfig,
  log: Logger,
  emit: <T extends StorageEvent>(type: T, data: EventData[T]) => void,
  clock?: Clock,
): Promise<Journal> {
  const opening = Journal.open(
    { dataDir: config.gateway.dataDir, maxBytes: config.storage.maxBytes, keepForwardedDays: config.storage.keepForwardedDays, ...(clock ? { clock } : {}) },
    {
      dropped: (count, reason) => emit('storage.dropped', { count, reason }),
      pressure: (usedBytes, maxBytes) => emit('storage.pressure', { usedBytes, maxBytes }),
      condition: (condition, message) => {
        if (condition === 'ok') emit('storage.recovered', {});
        else {
          log.error({ condition, message }, 'journal cannot write; gates keep working, events wait in memory');
          emit('storage.error', { condition, ...(message ? { message } : {}) });
        }
      },
    },
  );
  opening.catch(() => undefined); // awaited where it is taken into use; a failure there fails the start
  return opening;
}
