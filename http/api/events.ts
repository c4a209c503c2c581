/** What happened: the journal's events page by page, the live stream (server-sent events) and the Prometheus page. */
import type { DeviceSnapshot } from '../../devices/types.js';
import { every } from '../../core/clock.js';
import type { Api } from './index.js';

const MAX_SSE_CLIENTS = 32;

export function registerEventApi(api: Api): void {
  api.app.get<{ Querystring: Record<string, string | undefined> }>('/api/events', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    const after = intParam(req.query.after, 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(req.query.limit, 100, 1, 1000);
    const type = req.query.type;
    if (after === undefined) return api.deny(reply, 400, 'bad-request', 'after: expected a sequence number >= 0');
    if (limit === undefined) return api.deny(reply, 400, 'bad-request', 'limit: expected an integer 1-1000');
    if (type !== undefined && !/^[a-z][a-z0-9.-]{0,63}$/.test(type))
      return api.deny(reply, 400, 'bad-request', 'type: expected an event type such as vehicle.entry');
    const events = await api.deps.readEvents({ after, limit, ...(type ? { type } : {}) });
    return { events, next: events.length ? events[events.length - 1]!.seq : after };
  });

  let streams = 0;
  api.app.get('/api/stream', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    if (streams >= MAX_SSE_CLIENTS) return api.deny(reply, 429, 'too-many-requests', 'too many live consoles');
    streams++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (kind: string, data: unknown) => {
      if (res.writableLength > 1_000_000) return; // a stalled console misses updates rather than fill memory
      res.write(`event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('hello', {
      devices: [...api.deps.devices.values()].map((d) => d.snapshot()),
      waiting: api.deps.access.waiting(),
      carParks: api.deps.access.carParks.states(),
    });
    const offs = [
      api.deps.eventBus.on('event', `sse-${streams}-${Date.now()}`, (ev) => send('event', ev)),
      api.deps.eventBus.on('state', `sse-state-${streams}-${Date.now()}`, ({ state }) => send('state', state as DeviceSnapshot)),
      api.deps.eventBus.on('pending', `sse-pending-${streams}-${Date.now()}`, ({ waiting }) => send('waiting', waiting)),
      api.deps.eventBus.on('carPark', `sse-car-park-${streams}-${Date.now()}`, (park) => send('carPark', park)),
    ];
    const stopPing = every(api.deps.clock, 15_000, () => res.write(': ping\n\n'));
    const close = () => {
      stopPing();
      for (const off of offs) off();
      streams--;
    };
    res.once('close', close);
  });

  api.app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(api.deps.metrics()));
}

function intParam(raw: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
}
