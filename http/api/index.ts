/**
 * The console's API (docs/api.md), one module per resource: sessions (session.ts), devices and
 * the installer's I/O (devices.ts), access lists, passes and waiting visitors (access.ts), events
 * and the live stream (events.ts). This module holds what they share: who may ask (authorise)
 * and how a refusal is answered (deny).
 *
 * Authentication: `Authorization: Bearer TOKEN` or the session cookie. Requests authenticated by
 * the cookie that change something must come from the console's own origin: a JSON body (a
 * cross-site form cannot send one), and `Origin` or `Sec-Fetch-Site` naming this site (a browser
 * sends at least one with every change; a request with neither is refused). The cookie itself is SameSite=Strict.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl } from '../../access/access.js';
import type { PinUse } from '../../config/pins.js';
import type { Device } from '../../devices/types.js';
import type { DigitalIo } from '../../drivers/io/types.js';
import type { Session, Sessions } from '../auth.js';
import { ROLE_RANK, SESSION_COOKIE } from '../auth.js';
import type { GatewayBus } from '../../devices/messages.js';
import type { EventData, JournaledEvent } from '../../core/events.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Role, UserStore } from '../users.js';
import { registerAccessApi } from './access.js';
import { registerDeviceApi } from './devices.js';
import { registerEventApi } from './events.js';
import { registerSessionApi } from './session.js';

export interface ApiDeps {
  log: Logger;
  /** the gateway's clock: a wrong password's slower answer waits on it */
  clock: Clock;
  /** the site's id and name, for the console's header */
  site: { id: string; name?: string; tenant?: string };
  sessions: Sessions;
  users: UserStore;
  devices: ReadonlyMap<string, Device>;
  boards: ReadonlyMap<string, DigitalIo>;
  pins: readonly PinUse[];
  access: AccessControl;
  eventBus: GatewayBus;
  fireAlarmActive(): boolean;
  readEvents(q: { after: number; limit: number; type?: string }): Promise<JournaledEvent[]>;
  audit<T extends 'audit.login' | 'audit.login-failed'>(type: T, data: EventData[T]): void;
  metrics(): string;
  actuated(seconds: number): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

/** What every resource's routes are given. */
export interface Api {
  app: FastifyInstance;
  deps: ApiDeps;
  /** answers a refusal as `{ error, message }` */
  deny(reply: FastifyReply, status: number, error: string, message: string): FastifyReply;
  /** checks the session and the role; answers 401/403 itself and returns undefined when refused */
  authorise(req: FastifyRequest, reply: FastifyReply, role?: Role): Session | undefined;
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const deny = (reply: FastifyReply, status: number, error: string, message: string) => reply.code(status).send({ error, message });
  const authorise = (req: FastifyRequest, reply: FastifyReply, role: Role = 'staff'): Session | undefined => {
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookie = bearer ? undefined : cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = deps.sessions.lookup(bearer ?? cookie);
    if (!session) {
      void deny(
        reply,
        401,
        'unauthorized',
        deps.users.hasAdmin() ? 'log in first' : 'no accounts yet: create one with estate-gateway user add NAME --role admin --config FILE',
      );
      return undefined;
    }
    if (cookie && req.method !== 'GET' && req.method !== 'HEAD') {
      const why = crossSite(req);
      if (why) {
        void deny(reply, 403, 'cross-site', why);
        return undefined;
      }
    }
    if (ROLE_RANK[session.role] < ROLE_RANK[role]) {
      void deny(reply, 403, 'forbidden', `this needs the ${role} role; ${session.user} is ${session.role}`);
      return undefined;
    }
    req.session = session;
    return session;
  };
  const api: Api = { app, deps, deny, authorise };
  registerSessionApi(api);
  registerDeviceApi(api);
  registerAccessApi(api);
  registerEventApi(api);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Why a cookie-authenticated change looks cross-site, or undefined when it is the console's own. */
function crossSite(req: FastifyRequest): string | undefined {
  const site = req.headers['sec-fetch-site'];
  // Every browser sends one of the two with a change; a request with neither is not the console.
  if (site === undefined && req.headers.origin === undefined)
    return 'refused a change with neither Origin nor Sec-Fetch-Site (a script should use a Bearer token)';
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `refused a ${site} request`;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'refused a request with a malformed Origin';
    }
    if (host !== req.headers.host) return `refused a request from ${origin}`;
  } else if (origin === 'null') {
    return 'refused a request from an opaque origin';
  }
  const type = req.headers['content-type'];
  if (req.method !== 'DELETE' && !(typeof type === 'string' && /^application\/json\b/i.test(type))) {
    return 'changes must be sent as application/json';
  }
  return undefined;
}
