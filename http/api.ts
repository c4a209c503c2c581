/**
 * The console's API (docs/api.md): sessions, devices, events, I/O for installers,
 * plates for admins, waiting visitors, a live stream, and `/metrics`.
 *
 * Authentication: `Authorization: Bearer TOKEN` or the session cookie. Requests authenticated by
 * the cookie that change something must come from the console's own origin: a JSON body (a
 * cross-site form cannot send one), and `Origin` / `Sec-Fetch-Site`, when the browser sends them,
 * naming this site. The cookie itself is SameSite=Strict.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl } from '../access/access.js';
import type { PinUse } from '../config/pins.js';
import type { Kind } from '../devices/kind.js';
import { KINDS } from '../devices/kinds.js';
import type { Device, DeviceSnapshot } from '../devices/types.js';
import type { DigitalIo, Level } from '../drivers/io/types.js';
import type { Session, Sessions } from './auth.js';
import { ROLE_RANK, SESSION_COOKIE, SESSION_IDLE_MS } from './auth.js';
import type { GatewayBus } from '../devices/messages.js';
import type { EventData, JournaledEvent } from '../core/events.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Role, UserStore } from './users.js';

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

const MAX_SSE_CLIENTS = 32;

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const deny = (reply: FastifyReply, status: number, error: string, message: string) => reply.code(status).send({ error, message });

  /** Checks the session and the role; answers 401/403 itself and returns undefined when refused. */
  const authorise = (req: FastifyRequest, reply: FastifyReply, role: Role = 'staff'): Session | undefined => {
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookie = bearer ? undefined : cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = deps.sessions.lookup(bearer ?? cookie);
    if (!session) {
      void deny(reply, 401, 'unauthorized', deps.users.hasAdmin() ? 'log in first' : 'no accounts yet: create one with estate-gateway user add NAME --role admin --config FILE');
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

  app.post('/api/session', async (req, reply) => {
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    const username = body && typeof body === 'object' ? body.username : undefined;
    const password = body && typeof body === 'object' ? body.password : undefined;
    if (typeof username !== 'string' || typeof password !== 'string' || username.length > 64 || password.length > 1024) {
      return deny(reply, 400, 'bad-request', 'expected {"username": "...", "password": "..."}');
    }
    const address = req.socket.remoteAddress ?? req.ip;
    const result = await deps.sessions.login(username, password, address);
    if (result.ok) {
      deps.audit('audit.login', { user: result.session.user, address });
      const secure = req.protocol === 'https' ? '; Secure' : '';
      void reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${result.session.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_IDLE_MS / 1000}${secure}`,
      );
      return { token: result.session.token, user: result.session.user, role: result.session.role };
    }
    deps.audit('audit.login-failed', { user: username.slice(0, 64), address, reason: result.reason });
    if (result.status === 429) {
      void reply.header('retry-after', String(result.retryAfterSec));
      return deny(reply, 429, 'too-many-requests', `too many failed logins; try again in ${result.retryAfterSec} s`);
    }
    await new Promise((r) => deps.clock.setTimeout(() => r(undefined), result.delayMs));
    return deny(reply, 401, 'unauthorized', 'wrong user name or password');
  });

  app.get('/api/session', async (req, reply) => {
    const session = authorise(req, reply);
    if (!session) return reply;
    return { user: session.user, role: session.role };
  });

  app.delete('/api/session', async (req, reply) => {
    const session = authorise(req, reply);
    if (!session) return reply;
    deps.sessions.logout(session.token);
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { ok: true };
  });

  /** Whether anyone can log in yet (the console's first screen asks). */
  app.get('/api/setup', async () => ({ hasAdmin: deps.users.hasAdmin(), hasUsers: deps.users.list().length > 0 }));

  app.get('/api/site', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return deps.site;
  });

  /** What the console draws each kind's card from: its words in both languages and its card's parts. */
  app.get('/api/kinds', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return { kinds: Object.fromEntries(Object.entries(KINDS as Record<string, Kind>).map(([type, k]) => [type, { words: k.words, card: k.card }])) };
  });

  app.get('/api/devices', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return { devices: [...deps.devices.values()].map((d) => d.snapshot()) };
  });

  app.get<{ Params: { id: string } }>('/api/devices/:id', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    const device = deps.devices.get(req.params.id);
    if (!device) return deny(reply, 404, 'not-found', `no device ${req.params.id}`);
    return device.snapshot();
  });

  app.post<{ Params: { id: string; action: string } }>('/api/devices/:id/:action', async (req, reply) => {
    const session = authorise(req, reply);
    if (!session) return reply;
    const { id, action } = req.params;
    if (action !== 'open' && action !== 'close') return deny(reply, 404, 'not-found', `no action ${action}: expected open or close`);
    const device = deps.devices.get(id);
    if (!device) return deny(reply, 404, 'not-found', `no device ${id}`);
    const started = performance.now();
    const result = device.command(action, { by: 'console', user: session.user });
    if (result.ok) deps.actuated((performance.now() - started) / 1000);
    if (!result.ok) return deny(reply, result.error === 'not-supported' ? 400 : 409, result.error, result.message);
    return { ok: true, device: device.snapshot() };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/events', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    const after = intParam(req.query.after, 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(req.query.limit, 100, 1, 1000);
    const type = req.query.type;
    if (after === undefined) return deny(reply, 400, 'bad-request', 'after: expected a sequence number >= 0');
    if (limit === undefined) return deny(reply, 400, 'bad-request', 'limit: expected an integer 1-1000');
    if (type !== undefined && !/^[a-z][a-z0-9.-]{0,63}$/.test(type)) return deny(reply, 400, 'bad-request', 'type: expected an event type such as vehicle.entry');
    const events = await deps.readEvents({ after, limit, ...(type ? { type } : {}) });
    return { events, next: events.length ? events[events.length - 1]!.seq : after };
  });

  app.get('/api/io', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return { boards: [...deps.boards.values()].map((board) => ioBoard(board, deps.pins)) };
  });

  app.post<{ Params: { io: string; pin: string } }>('/api/io/:io/:pin', async (req, reply) => {
    if (!authorise(req, reply, 'installer')) return reply;
    const board = deps.boards.get(req.params.io);
    if (!board) return deny(reply, 404, 'not-found', `no io board ${req.params.io}`);
    const pin = Number(req.params.pin);
    const use = deps.pins.find((u) => u.ref.io === board.id && u.ref.pin === pin);
    if (!use) return deny(reply, 404, 'not-found', `pin ${req.params.pin} of ${board.id} is not used by any device`);
    const body = req.body as { value?: unknown; pulseMs?: unknown } | undefined;
    const value = body && typeof body === 'object' ? body.value : undefined;
    if (value !== 0 && value !== 1) return deny(reply, 400, 'bad-request', 'value: expected 0 or 1');
    const pulseMs = body?.pulseMs;
    if (pulseMs !== undefined && !(Number.isInteger(pulseMs) && (pulseMs as number) >= 50 && (pulseMs as number) <= 10_000)) {
      return deny(reply, 400, 'bad-request', 'pulseMs: expected an integer 50-10000');
    }
    if (deps.fireAlarmActive()) return deny(reply, 409, 'fire-alarm', 'no commissioning while the fire alarm is active');
    const level = ((value ^ (use.ref.activeLow ? 1 : 0)) as Level);
    if (use.direction === 'in') {
      if (!board.setInput) return deny(reply, 400, 'bad-request', `${use.owner}.${use.role} is an input; only a sim board's inputs can be set`);
      board.setInput(pin, level);
      return { ok: true, pin: pinView(board, use) };
    }
    // The device that owns the pin sets it, under its own safety rules (a lane's hold-off, the
    // fire alarm), as its own command where it has one: see Device.driveByHand.
    const device = deps.devices.get(use.owner);
    if (!device) return deny(reply, 404, 'not-found', `pin ${pin} of ${board.id} belongs to no device`);
    if (!board.online) return deny(reply, 409, 'offline', `io board ${board.id} is offline`);
    const user = req.session?.user;
    const done = device.driveByHand(use.role, value === 1, pulseMs as number | undefined, { by: 'console', ...(user ? { user } : {}) });
    if (!done.ok) return deny(reply, 409, done.error, done.message);
    deps.log.info({ user: req.session?.user, board: board.id, pin, value, pulseMs, owner: use.owner, role: use.role }, 'output set from the console');
    return { ok: true, pin: pinView(board, use) };
  });

  app.get('/api/plates', async (req, reply) => {
    if (!authorise(req, reply, 'admin')) return reply;
    return { version: deps.access.plates.version, plates: deps.access.plates.list() };
  });

  app.put('/api/plates', async (req, reply) => {
    if (!authorise(req, reply, 'admin')) return reply;
    const body = req.body as { version?: unknown; plates?: unknown } | undefined;
    if (!body || typeof body !== 'object') return deny(reply, 400, 'bad-request', 'expected {"version": N, "plates": [...]}');
    const change = deps.access.plates.replace(body.plates, body.version);
    if (!change.ok) return deny(reply, change.error === 'stale-version' ? 409 : 400, change.error, change.message);
    return change;
  });

  app.get('/api/cards', async (req, reply) => {
    if (!authorise(req, reply, 'admin')) return reply;
    const cards = deps.access.credentials.cards;
    return { version: cards.version, cards: cards.list() };
  });

  /** Visitor passes shown at a reader since the gateway started: who, uses left, until when. */
  app.get('/api/passes', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return { enabled: deps.access.credentials.passesEnabled, passes: deps.access.credentials.passes.seen() };
  });

  app.get('/api/visitors', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    return { waiting: deps.access.waiting() };
  });

  app.post<{ Params: { id: string; decision: string } }>('/api/visitors/:id/:decision', async (req, reply) => {
    const session = authorise(req, reply);
    if (!session) return reply;
    const { id, decision } = req.params;
    if (decision !== 'allow' && decision !== 'deny') return deny(reply, 404, 'not-found', `no decision ${decision}: expected allow or deny`);
    const decided = deps.access.settle(id, { decision: decision === 'allow' ? 'granted' : 'denied', by: 'console', user: session.user });
    if (!decided) return deny(reply, 404, 'not-found', `no vehicle waiting as ${id}`);
    return { ok: true };
  });

  let streams = 0;
  app.get('/api/stream', async (req, reply) => {
    if (!authorise(req, reply)) return reply;
    if (streams >= MAX_SSE_CLIENTS) return deny(reply, 429, 'too-many-requests', 'too many live consoles');
    streams++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (kind: string, data: unknown) => {
      if (res.writableLength > 1_000_000) return; // a stalled console misses updates rather than fill memory
      res.write(`event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('hello', { devices: [...deps.devices.values()].map((d) => d.snapshot()), waiting: deps.access.waiting() });
    const offs = [
      deps.eventBus.on('event', `sse-${streams}-${Date.now()}`, (ev) => send('event', ev)),
      deps.eventBus.on('state', `sse-state-${streams}-${Date.now()}`, ({ state }) => send('state', state as DeviceSnapshot)),
      deps.eventBus.on('pending', `sse-pending-${streams}-${Date.now()}`, ({ waiting }) => send('waiting', waiting)),
    ];
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    const close = () => {
      clearInterval(ping);
      for (const off of offs) off();
      streams--;
    };
    res.once('close', close);
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics()));
}

function ioBoard(board: DigitalIo, pins: readonly PinUse[]) {
  return {
    id: board.id,
    type: board.type,
    online: board.online,
    pins: pins.filter((u) => u.ref.io === board.id).map((u) => pinView(board, u)),
  };
}

function pinView(board: DigitalIo, use: PinUse) {
  let value: number | null = null;
  try {
    value = board.read(use.ref.pin) ^ (use.ref.activeLow ? 1 : 0);
  } catch {
    value = null;
  }
  return { pin: use.ref.pin, direction: use.direction, value, device: use.owner, role: use.role, activeLow: use.ref.activeLow };
}

function intParam(raw: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
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
