/**
 * The gateway's HTTP surface on one listener: health, the API and its event stream, the console
 * page and the cameras' pushes. Built from what the gateway hands it; owns nothing else.
 */
import type { FastifyInstance } from 'fastify';
import { pinUses } from '../config/pins.js';
import type { SiteConfig } from '../config/schema.js';
import type { Kind } from '../devices/kind.js';
import { KINDS } from '../devices/kinds.js';
import type { PushSource } from '../devices/push.js';
import { registerApi } from './api/index.js';
import type { ApiDeps } from './api/index.js';
import { Sessions } from './auth.js';
import type { Clock } from '../core/clock.js';
import { registerConsole } from './console.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import { createHttpServer, parseListen } from './server.js';
import type { HealthReport } from './server.js';
import type { Logger } from '../core/log.js';
import { registerPushRoutes } from './pushes.js';
import type { PushRoute, PushRouteDeps } from './pushes.js';
import { UserStore } from './users.js';

export interface ServeDeps
  extends Pick<ApiDeps, 'devices' | 'boards' | 'access' | 'eventBus' | 'fireAlarmActive' | 'readEvents' | 'audit' | 'metrics' | 'actuated'> {
  config: SiteConfig;
  log: Logger;
  clock: Clock;
  /** devices that push over HTTP, by id */
  pushSources: ReadonlyMap<string, PushSource>;
  health(): HealthReport;
  committed(): Promise<void>;
  unmatched: PushRouteDeps['unmatched'];
  pushed?: PushRouteDeps['pushed'];
}

export async function serveHttp(listen: string, deps: ServeDeps): Promise<{ http: FastifyInstance; address: { host: string; port: number } }> {
  const { config, log, clock, pushSources, health, committed, unmatched, pushed, ...api } = deps;
  const { host, port } = parseListen(listen);
  const http = createHttpServer({ log, health, committed });
  const users = new UserStore(config.gateway.dataDir);
  registerApi(http, {
    ...api,
    clock,
    site: config.site,
    log: log.child({ component: 'api' }),
    sessions: new Sessions(users, clock),
    users,
    pins: pinUses(config),
  });
  registerConsole(http);
  await registerPushRoutes(http, { log: log.child({ component: 'lpr' }), routes: pushRoutes(config, pushSources), unmatched, ...(pushed ? { pushed } : {}) });
  try {
    await http.listen({ host, port });
  } catch (err) {
    throw new GatewayError('HTTP_LISTEN', `cannot listen on ${listen}: ${errorMessage(err)}`, { listen }, { cause: err });
  }
  const addr = http.server.address();
  return { http, address: addr && typeof addr === 'object' ? { host: addr.address, port: addr.port } : { host, port } };
}

/** The push routes of every kind that receives pushes, with the site's devices of that kind. */
function pushRoutes(config: SiteConfig, sources: ReadonlyMap<string, PushSource>): PushRoute[] {
  return Object.entries(KINDS as Record<string, Kind>).flatMap(([type, kind]): PushRoute[] => {
    if (!kind.push) return [];
    const { fixed } = kind.push;
    const mine = config.devices.filter((d) => d.type === type && sources.has(d.id));
    return [
      {
        path: kind.push.path,
        what: kind.push.what,
        sources: new Map(mine.map((d) => [d.id, sources.get(d.id)!])),
        ...(fixed ? { fixed: { path: fixed.path, sources: mine.filter((d) => fixed.takes(d)).map((d) => sources.get(d.id)!) } } : {}),
      },
    ];
  });
}
