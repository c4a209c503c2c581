/**
 * The gateway's HTTP surface on one listener: health, the API and its event stream, the console
 * page and the cameras' pushes. Built from what the gateway hands it; owns nothing else.
 */
import type { FastifyInstance } from 'fastify';
import { pinUses } from '../config/pins.js';
import type { SiteConfig } from '../config/schema.js';
import type { LprCamera } from '../devices/lpr-camera.js';
import { AccessTerminal } from '../devices/access-terminal.js';
import { registerApi } from './api.js';
import type { ApiDeps } from './api.js';
import { Sessions } from './auth.js';
import type { Clock } from '../core/clock.js';
import { registerConsole } from './console.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import { createHttpServer, parseListen } from './server.js';
import type { HealthReport } from './server.js';
import type { Logger } from '../core/log.js';
import { registerCameraRoutes } from './cameras.js';
import type { CameraRouteDeps } from './cameras.js';
import { UserStore } from './users.js';

export interface ServeDeps
  extends Pick<ApiDeps, 'devices' | 'boards' | 'access' | 'eventBus' | 'fireAlarmActive' | 'readEvents' | 'audit' | 'metrics' | 'actuated'> {
  config: SiteConfig;
  log: Logger;
  clock: Clock;
  cameras: ReadonlyMap<string, LprCamera>;
  health(): HealthReport;
  committed(): Promise<void>;
  unmatched: CameraRouteDeps['unmatched'];
}

export async function serveHttp(listen: string, deps: ServeDeps): Promise<{ http: FastifyInstance; address: { host: string; port: number } }> {
  const { config, log, clock, cameras, health, committed, unmatched, ...api } = deps;
  const { host, port } = parseListen(listen);
  const http = createHttpServer({ log, health, committed });
  const users = new UserStore(config.gateway.dataDir);
  registerApi(http, { ...api, clock, site: config.site, log: log.child({ component: 'api' }), sessions: new Sessions(users, clock), users, pins: pinUses(config) });
  registerConsole(http);
  const terminals = new Map([...api.devices].filter((e): e is [string, AccessTerminal] => e[1] instanceof AccessTerminal));
  await registerCameraRoutes(http, { log: log.child({ component: 'lpr' }), cameras: () => cameras, terminals: () => terminals, unmatched });
  try {
    await http.listen({ host, port });
  } catch (err) {
    throw new GatewayError('HTTP_LISTEN', `cannot listen on ${listen}: ${errorMessage(err)}`, { listen }, { cause: err });
  }
  const addr = http.server.address();
  return { http, address: addr && typeof addr === 'object' ? { host: addr.address, port: addr.port } : { host, port } };
}
