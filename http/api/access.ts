/** Access: the plate and card lists (admins), visitor passes seen, vehicles waiting for staff and their decision, car parks' counts. */
import type { Api } from './index.js';

export function registerAccessApi(api: Api): void {
  api.app.get('/api/plates', async (req, reply) => {
    if (!api.authorise(req, reply, 'admin')) return reply;
    return { version: api.deps.access.plates.version, plates: api.deps.access.plates.list() };
  });

  api.app.put('/api/plates', async (req, reply) => {
    if (!api.authorise(req, reply, 'admin')) return reply;
    const body = req.body as { version?: unknown; plates?: unknown } | undefined;
    if (!body || typeof body !== 'object') return api.deny(reply, 400, 'bad-request', 'expected {"version": N, "plates": [...]}');
    const change = api.deps.access.plates.replace(body.plates, body.version);
    if (!change.ok) return api.deny(reply, change.error === 'stale-version' ? 409 : 400, change.error, change.message);
    return change;
  });

  api.app.get('/api/cards', async (req, reply) => {
    if (!api.authorise(req, reply, 'admin')) return reply;
    const cards = api.deps.access.credentials.cards;
    return { version: cards.version, cards: cards.list() };
  });

  /** Visitor passes shown at a reader since the gateway started and still valid: who, uses left, until when. */
  api.app.get('/api/passes', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { enabled: api.deps.access.credentials.passesEnabled, passes: api.deps.access.credentials.passes.seen() };
  });

  api.app.get('/api/car-parks', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { carParks: api.deps.access.carParks.states() };
  });

  /** Staff correct a count that drifted (a car tailgated through, a read was missed); kept on disk before the answer. */
  api.app.put<{ Params: { id: string } }>('/api/car-parks/:id', async (req, reply) => {
    const session = api.authorise(req, reply);
    if (!session) return reply;
    const used = (req.body as { used?: unknown } | undefined)?.used;
    if (typeof used !== 'number' || !Number.isInteger(used) || used < 0 || used > 100_000) {
      return api.deny(reply, 400, 'bad-request', `used: expected a whole number of spaces in use, 0-100000, got ${JSON.stringify(used ?? null).slice(0, 40)}`);
    }
    const park = api.deps.access.correctSpaces(req.params.id, used, { by: 'console', user: session.user });
    if (!park) return api.deny(reply, 404, 'not-found', `no car park ${req.params.id}`);
    return park;
  });

  api.app.get('/api/visitors', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { waiting: api.deps.access.waiting() };
  });

  api.app.post<{ Params: { id: string; decision: string } }>('/api/visitors/:id/:decision', async (req, reply) => {
    const session = api.authorise(req, reply);
    if (!session) return reply;
    const { id, decision } = req.params;
    if (decision !== 'allow' && decision !== 'deny') return api.deny(reply, 404, 'not-found', `no decision ${decision}: expected allow or deny`);
    const decided = api.deps.access.settle(id, { decision: decision === 'allow' ? 'granted' : 'denied', by: 'console', user: session.user });
    if (!decided) return api.deny(reply, 404, 'not-found', `no vehicle waiting as ${id}`);
    return { ok: true };
  });
}
