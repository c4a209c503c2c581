/**
 * `estate-gateway events [--pending] [--after SEQ] [--limit N] [--type T] [--json] --config FILE`:
 * reads the journal directly (read-only; a running gateway keeps writing meanwhile).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfigFile } from '../../config/load.js';
import { GatewayError } from '../../core/errors.js';
import { formatEvent } from '../event-format.js';
import { maskPlatesDeep } from '../../core/privacy.js';
import type { JournaledEvent } from '../../core/events.js';
import { JOURNAL_FILE } from '../../journal/journal.js';
import type { Output } from './output.js';

export interface EventsOptions {
  configFile: string;
  dataDir?: string;
  pending: boolean;
  after: number;
  limit: number;
  type?: string;
  json: boolean;
  /** --json: plates in the clear (an admin's own machine); masked like the logs otherwise */
  showPlates?: boolean;
  color: boolean;
}

export function eventsCommand(opts: EventsOptions, out: Output): number {
  const { config } = loadConfigFile(opts.configFile);
  const file = join(opts.dataDir ?? config.gateway.dataDir, JOURNAL_FILE);
  if (!existsSync(file)) throw new GatewayError('CONFIG_UNREADABLE', `no journal at ${file} (has the gateway run with this config?)`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const where = ['seq > @after'];
    if (opts.pending) where.push('forwarded = 0');
    if (opts.type) where.push('type = @type');
    const rows = db
      .prepare(`SELECT body, forwarded FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
      .all({ after: opts.after, limit: opts.limit, type: opts.type ?? '' }) as Array<{ body: string; forwarded: number }>;
    for (const row of rows) {
      const ev = JSON.parse(row.body) as JournaledEvent;
      if (opts.json) out.stdout(JSON.stringify({ ...(opts.showPlates ? ev : (maskPlatesDeep(ev) as JournaledEvent)), forwarded: row.forwarded === 1 }));
      else out.stdout(`${String(ev.seq).padStart(8)} ${row.forwarded ? ' ' : '*'} ${formatEvent(ev, opts.color)}`);
    }
    if (!opts.json) {
      const total = (
        db.prepare(`SELECT COUNT(*) AS n FROM events WHERE ${where.join(' AND ')}`).get({ after: opts.after, type: opts.type ?? '' }) as { n: number }
      ).n;
      const shown =
        total > rows.length
          ? `${rows.length} of ${total} event(s) (--limit ${opts.limit}; --after ${rows.at(-1)?.body ? (JSON.parse(rows.at(-1)!.body) as JournaledEvent).seq : opts.after} for the next)`
          : `${rows.length} event(s)`;
      out.stderr(`${shown}${opts.pending ? ' waiting to be forwarded' : ''}; * = not yet forwarded`);
    }
  } finally {
    db.close();
  }
  return 0;
}
