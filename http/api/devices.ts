/** Devices (their snapshots, open and close), what each kind says of itself (GET /api/kinds), and the installer's I/O page. */
import type { PinUse } from '../../config/pins.js';
import type { Kind } from '../../devices/kind.js';
import { KINDS } from '../../devices/kinds.js';
import type { DigitalIo, Level } from '../../drivers/io/types.js';
import type { Api } from './index.js';

export function registerDeviceApi(api: Api): void {
  /** What the console draws each kind's card from: its words in both languages and its card's parts. */
  api.app.get('/api/kinds', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { kinds: Object.fromEntries(Object.entries(KINDS as Record<string, Kind>).map(([type, k]) => [type, { words: k.words, card: k.card }])) };
  });

  api.app.get('/api/devices', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { devices: [...api.deps.devices.values()].map((d) => d.snapshot()) };
  });

  api.app.get<{ Params: { id: string } }>('/api/devices/:id', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    const device = api.deps.devices.get(req.params.id);
    if (!device) return api.deny(reply, 404, 'not-found', `no device ${req.params.id}`);
    return device.snapshot();
  });

  api.app.post<{ Params: { id: string; action: string } }>('/api/devices/:id/:action', async (req, reply) => {
    const session = api.authorise(req, reply);
    if (!session) return reply;
    const { id, action } = req.params;
    if (action !== 'open' && action !== 'close') return api.deny(reply, 404, 'not-found', `no action ${action}: expected open or close`);
    const device = api.deps.devices.get(id);
    if (!device) return api.deny(reply, 404, 'not-found', `no device ${id}`);
    const started = performance.now();
    const result = device.command(action, { by: 'console', user: session.user });
    if (result.ok) api.deps.actuated((performance.now() - started) / 1000);
    if (!result.ok) return api.deny(reply, result.error === 'not-supported' ? 400 : 409, result.error, result.message);
    return { ok: true, device: device.snapshot() };
  });

  api.app.get('/api/io', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return { boards: [...api.deps.boards.values()].map((board) => ioBoard(board, api.deps.pins)) };
  });

  api.app.post<{ Params: { io: string; pin: string } }>('/api/io/:io/:pin', async (req, reply) => {
    if (!api.authorise(req, reply, 'installer')) return reply;
    const board = api.deps.boards.get(req.params.io);
    if (!board) return api.deny(reply, 404, 'not-found', `no io board ${req.params.io}`);
    const pin = Number(req.params.pin);
    const use = api.deps.pins.find((u) => u.ref.io === board.id && u.ref.pin === pin);
    if (!use) return api.deny(reply, 404, 'not-found', `pin ${req.params.pin} of ${board.id} is not used by any device`);
    const body = req.body as { value?: unknown; pulseMs?: unknown } | undefined;
    const value = body && typeof body === 'object' ? body.value : undefined;
    if (value !== 0 && value !== 1) return api.deny(reply, 400, 'bad-request', 'value: expected 0 or 1');
    const pulseMs = body?.pulseMs;
    if (pulseMs !== undefined && !(Number.isInteger(pulseMs) && (pulseMs as number) >= 50 && (pulseMs as number) <= 10_000)) {
      return api.deny(reply, 400, 'bad-request', 'pulseMs: expected an integer 50-10000');
    }
    if (api.deps.fireAlarmActive()) return api.deny(reply, 409, 'fire-alarm', 'no commissioning while the fire alarm is active');
    const level = (value ^ (use.ref.activeLow ? 1 : 0)) as Level;
    if (use.direction === 'in') {
      if (!board.setInput) return api.deny(reply, 400, 'bad-request', `${use.owner}.${use.role} is an input; only a sim board's inputs can be set`);
      board.setInput(pin, level);
      return { ok: true, pin: pinView(board, use) };
    }
    // The device that owns the pin sets it, under its own safety rules (a lane's hold-off, the
    // fire alarm), as its own command where it has one: see Device.driveByHand.
    const device = api.deps.devices.get(use.owner);
    if (!device) return api.deny(reply, 404, 'not-found', `pin ${pin} of ${board.id} belongs to no device`);
    if (!board.online) return api.deny(reply, 409, 'offline', `io board ${board.id} is offline`);
    const user = req.session?.user;
    const done = device.driveByHand(use.role, value === 1, pulseMs as number | undefined, { by: 'console', ...(user ? { user } : {}) });
    if (!done.ok) return api.deny(reply, 409, done.error, done.message);
    api.deps.log.info({ user: req.session?.user, board: board.id, pin, value, pulseMs, owner: use.owner, role: use.role }, 'output set from the console');
    return { ok: true, pin: pinView(board, use) };
  });
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
