import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { SimBoard } from '../drivers/io/sim.js';
import { systemClock } from '../gateway/clock.js';
import type { GatewayEvent } from '../gateway/events.js';
import { createLogger } from '../gateway/log.js';
import type { Logger } from '../gateway/log.js';
import { Gateway } from '../gateway/main.js';

export const silentLog = createLogger({ level: 'silent' });

/** A logger whose JSON lines are collected in `lines`. */
export function capturingLog(level: 'info' | 'debug' | 'trace' = 'info'): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level, destination: stream as unknown as NonNullable<Parameters<typeof createLogger>[0]>['destination'] });
  return {
    log,
    lines: () => raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A valid config from a partial one: site and gateway filled in, validated with defaults. */
export function siteConfig(partial: Record<string, unknown>): SiteConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'eg-test-'));
  const result = validateConfig({ site: { id: 'test-site' }, gateway: { id: 'gw-test', dataDir }, ...partial });
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export interface Harness {
  gateway: Gateway;
  config: SiteConfig;
  board: SimBoard;
  events: GatewayEvent[];
  /** events as [time ms, type, device, data] for exact comparisons */
  timeline(): Array<[number, string, string, unknown]>;
}

/** A gateway on one sim board (id `sim`) with the given devices, started, no HTTP. */
export async function startGateway(
  partial: Record<string, unknown>,
  existing?: SimBoard,
  opts: { listen?: string; log?: Logger; dataDir?: string; journal?: boolean } = {},
): Promise<Harness> {
  const config = siteConfig({ io: [{ id: 'sim', type: 'sim' }], ...partial });
  if (opts.dataDir) config.gateway.dataDir = opts.dataDir;
  const board = existing ?? new SimBoard('sim', { clock: systemClock });
  const gateway = new Gateway({
    config,
    log: opts.log ?? silentLog,
    version: 'test',
    boards: new Map([['sim', board]]),
    listen: opts.listen ?? false,
    ...(opts.journal ? {} : { journal: false as const }),
  });
  const events: GatewayEvent[] = [];
  gateway.bus.on('event', 'test', (ev) => void events.push(ev));
  await gateway.start();
  return {
    gateway,
    config,
    board,
    events,
    timeline: () => events.map((e) => [Date.parse(e.time), e.type, e.device, e.data]),
  };
}
