import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS, JournalStore, TELEMETRY } from '../journal/store.js';
import type { JournalRow } from '../journal/store.js';
import { seededRandom } from './helpers.js';

/** What a count over the table says is pending: the figure health reports must equal it. */
const counted = (s: JournalStore) => (s.db.prepare('SELECT count(*) AS n FROM events WHERE forwarded = 0').get() as { n: number }).n;
const oldestCounted = (s: JournalStore) =>
  (s.db.prepare('SELECT time FROM events WHERE forwarded = 0 ORDER BY seq LIMIT 1').get() as { time: string } | undefined)?.time ?? null;

describe('the journal store keeps its backlog depth without counting it', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: appends, acks (some twice), acks up to a seq, thinning and reopening`, () => {
      const random = seededRandom(seed);
      const file = join(mkdtempSync(join(tmpdir(), 'eg-store-')), 'journal.db');
      const options = { maxBytes: 600_000, keepForwardedDays: 7 };
      let store = new JournalStore(file, options);
      let seq = 0;
      let thinned = 0;
      const row = (): JournalRow => {
        seq++;
        const cls = random() < 0.7 ? TELEMETRY : ACCESS;
        return {
          seq,
          id: `e${seq}`,
          time: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
          type: cls === TELEMETRY ? 'meter.reading' : 'door.unlocked',
          device: 'd',
          cls,
          body: 'x'.repeat(800 + Math.floor(random() * 1200)),
        };
      };
      for (let step = 0; step < 300; step++) {
        const r = random();
        if (r < 0.45) store.append(Array.from({ length: 1 + Math.floor(random() * 60) }, row));
        else if (r < 0.75) store.markForwarded(Array.from({ length: 1 + Math.floor(random() * 40) }, () => 1 + Math.floor(random() * seq)));
        else if (r < 0.8) store.markForwardedUpTo(Math.floor(random() * seq));
        else if (r < 0.95) thinned += store.thin().dropped;
        else {
          store.close();
          store = new JournalStore(file, options);
        }
        const stats = store.stats();
        expect(stats.depth, `step ${step}`).toBe(counted(store));
        expect(stats.oldestPendingTime).toBe(oldestCounted(store));
      }
      expect(thinned, 'the budget made the store drop unforwarded telemetry at least once').toBeGreaterThan(0);
      store.close();
    });
  }
});
