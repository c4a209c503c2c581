import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { UserStore } from '../http/users.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';

const OPEN = 5,
  CLOSE = 6,
  LOOP = 13,
  LOCK = 1,
  FIRE = 20;

let h: Harness;
let base: string;
const PASSWORDS = { ada: 'admin-password-1', ian: 'installer-pass-2', sam: 'staff-password-3' };

beforeEach(async () => {
  h = await startGateway(
    {
      devices: [
        { id: 'door-a', type: 'door', lock: { io: 'sim', pin: LOCK }, lockType: 'fail-secure' },
        {
          id: 'gate',
          type: 'barrier',
          open: { io: 'sim', pin: OPEN },
          close: { io: 'sim', pin: CLOSE, activeLow: true },
          safetyLoop: { io: 'sim', pin: LOOP },
          autoClose: false,
        },
        { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
      ],
      fireAlarm: { input: { io: 'sim', pin: FIRE } },
      access: { visitors: 'ask', plates: [{ plate: '粤B12345' }] },
    },
    undefined,
    { listen: '127.0.0.1:0', journal: true },
  );
  base = `http://127.0.0.1:${h.gateway.address!.port}`;
});
afterEach(async () => void (await h?.gateway.stop()));

async function users() {
  const store = new UserStore(h.config.gateway.dataDir);
  await store.add('ada', 'admin', PASSWORDS.ada);
  await store.add('ian', 'installer', PASSWORDS.ian);
  await store.add('sam', 'staff', PASSWORDS.sam);
}

async function call(method: string, path: string, opts: { token?: string; cookie?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

async function login(user: keyof typeof PASSWORDS) {
  const r = await call('POST', '/api/session', { body: { username: user, password: PASSWORDS[user] } });
  expect(r.status).toBe(200);
  return { token: r.json.token as string, cookie: r.headers.get('set-cookie')!.split(';')[0]! };
}

/**
 * Login failures on fake time: a gateway on a ManualClock, each wrong password's slower answer
 * seen as the wait it asks the clock for, and the clock moved over it (no real sleeping).
 */
async function onManualClock(
  site: Record<string, unknown> = { devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: LOCK }, lockType: 'fail-secure' }] },
) {
  await h.gateway.stop();
  const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
  h = await startGateway(site, undefined, { listen: '127.0.0.1:0', journal: true, clock });
  base = `http://127.0.0.1:${h.gateway.address!.port}`;
  await users();
  /** A login; when the gateway holds the answer back, the wait it asked for, and the clock moved over it. */
  const attempt = async (username: string, password: string) => {
    // timers by when they fall due: the gateway's own (clock checks, pings) are there before and after
    const before = new Set(clock.pending().map((ms) => clock.now() + ms));
    const answer = call('POST', '/api/session', { body: { username, password } });
    let settled = false;
    void answer.finally(() => (settled = true));
    let waitedMs: number | undefined;
    while (!settled) {
      const wait = clock.pending().find((ms) => !before.has(clock.now() + ms) && ms >= 250);
      if (wait !== undefined) {
        waitedMs = wait;
        clock.advance(wait);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return { ...(await answer), waitedMs };
  };
  return { clock, attempt };
}

describe('accounts and sessions', () => {
  it('has no account until one is made, and says how to make one', async () => {
    expect((await call('GET', '/api/setup')).json).toEqual({ hasAdmin: false, hasUsers: false });
    const r = await call('GET', '/api/devices');
    expect(r.status).toBe(401);
    expect(r.json.message).toMatch(/estate-gateway user add NAME --role admin/);
  });

  it('logs in with a token and an HttpOnly SameSite=Strict cookie, and audits it', async () => {
    await users();
    const r = await call('POST', '/api/session', { body: { username: 'sam', password: PASSWORDS.sam } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ user: 'sam', role: 'staff', token: expect.stringMatching(/^[\w-]{43}$/) });
    expect(r.headers.get('set-cookie')).toMatch(/^eg_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect((await call('GET', '/api/session', { token: r.json.token as string })).json).toEqual({ user: 'sam', role: 'staff' });
    expect(h.events.filter((e) => e.type === 'audit.login').map((e) => e.data)).toEqual([{ user: 'sam', address: '127.0.0.1' }]);
  });

  it('refuses a wrong password with 401, slower each time, and locks the account out after 5 with 429 and Retry-After', async () => {
    const { attempt } = await onManualClock();
    const waits: Array<number | undefined> = [];
    for (let i = 0; i < 4; i++) {
      const r = await attempt('sam', 'wrong');
      expect(r.status).toBe(401);
      waits.push(r.waitedMs);
    }
    expect(waits).toEqual([250, 500, 750, 1000]);
    const fifth = await attempt('sam', 'wrong');
    expect(fifth.status).toBe(429);
    expect(fifth.waitedMs).toBeUndefined(); // a lock-out is answered at once
    expect(Number(fifth.headers.get('retry-after'))).toBe(300);
    // locked: even the right password is refused now, without being checked
    expect((await attempt('sam', PASSWORDS.sam)).status).toBe(429);
    // other accounts still log in
    expect((await attempt('ada', PASSWORDS.ada)).status).toBe(200);
    expect(h.events.filter((e) => e.type === 'audit.login-failed').map((e) => (e.data as { reason: string }).reason)).toEqual([
      'bad-credentials',
      'bad-credentials',
      'bad-credentials',
      'bad-credentials',
      'account-locked',
      'account-locked',
    ]);
  });

  it('locks out an address that tries many accounts, and lets it in again once the lock has passed', async () => {
    const { clock, attempt } = await onManualClock();
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await attempt(`nobody${i}`, 'x')).status;
    expect(last).toBe(429);
    expect((await attempt('ada', PASSWORDS.ada)).status).toBe(429);
    clock.advance(15 * 60_000);
    expect((await attempt('ada', PASSWORDS.ada)).status).toBe(200);
  });

  it('logs out', async () => {
    await users();
    const { token } = await login('sam');
    expect((await call('DELETE', '/api/session', { token })).status).toBe(200);
    expect((await call('GET', '/api/devices', { token })).status).toBe(401);
  });

  it('refuses malformed login bodies with 400', async () => {
    for (const body of ['{', '[]', '{"username":1}', '{"username":"a"}', 'null']) {
      expect((await call('POST', '/api/session', { body })).status).toBe(400);
    }
  });
});

describe('roles and cross-site protection', () => {
  it('staff open doors and gates; only installers and admins set outputs; only admins touch plates', async () => {
    await users();
    const sam = await login('sam');
    const ian = await login('ian');
    const ada = await login('ada');
    expect((await call('POST', '/api/devices/door-a/open', { token: sam.token })).status).toBe(200);
    expect(h.board.historyOf(LOCK).map(([, v]) => v)).toEqual([0, 1]);
    expect((await call('POST', '/api/io/sim/5', { token: sam.token, body: { value: 1 } })).status).toBe(403);
    expect((await call('POST', '/api/io/sim/5', { token: ian.token, body: { value: 1, pulseMs: 100 } })).status).toBe(200);
    expect(h.board.read(OPEN)).toBe(1);
    expect((await call('GET', '/api/plates', { token: ian.token })).status).toBe(403);
    expect((await call('GET', '/api/plates', { token: ada.token })).json).toMatchObject({ version: 0, plates: [{ plate: '粤B12345', source: 'config' }] });
    expect((await call('PUT', '/api/plates', { token: ada.token, body: { version: 3, plates: [{ plate: '粤A1234５' }] } })).json).toEqual({
      ok: true,
      version: 3,
      count: 1,
    });
    expect((await call('PUT', '/api/plates', { token: ada.token, body: { version: 2, plates: [] } })).status).toBe(409);
    expect((await call('PUT', '/api/plates', { token: ada.token, body: { version: 4, plates: [{ plate: 5 }] } })).status).toBe(400);
  });

  it('refuses cookie-authenticated changes from another origin, a cross-site fetch or a form', async () => {
    await users();
    const { cookie } = await login('sam');
    const host = new URL(base).host;
    const open = (headers: Record<string, string>, body: string | undefined = '{}') =>
      call('POST', '/api/devices/door-a/open', { cookie, headers, ...(body !== undefined ? { body } : {}) });
    expect((await open({ origin: 'http://evil.example' })).json).toMatchObject({ error: 'cross-site' });
    expect((await open({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await open({ origin: 'null' })).status).toBe(403);
    expect((await open({})).json).toMatchObject({ error: 'cross-site', message: expect.stringMatching(/neither Origin nor Sec-Fetch-Site/) }); // not a browser
    expect((await open({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1')).status).toBe(415); // no form parser at all
    expect((await open({ 'content-type': 'text/plain' }, '{}')).status).toBe(403);
    expect(h.board.historyOf(LOCK)).toHaveLength(1);
    expect((await open({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await open({ origin: `http://${host}` })).status).toBe(200); // a browser over plain http on the LAN sends Origin only
    expect((await open({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });
});

describe('devices, events, io, visitors, metrics', () => {
  it('refuses an unsafe close (409 unsafe) and any close during the fire alarm (409 fire-alarm), moving nothing', async () => {
    await users();
    const { token } = await login('sam');
    h.board.setInput(LOOP, 1);
    const r = await call('POST', '/api/devices/gate/close', { token });
    expect([r.status, r.json.error]).toEqual([409, 'unsafe']);
    h.board.setInput(LOOP, 0);
    h.board.setInput(FIRE, 1);
    await new Promise((res) => setTimeout(res, 150));
    const f = await call('POST', '/api/devices/door-a/close', { token });
    expect([f.status, f.json.error]).toEqual([409, 'fire-alarm']);
    expect((await call('POST', '/api/io/sim/6', { token: (await login('ian')).token, body: { value: 1 } })).json).toMatchObject({ error: 'fire-alarm' });
    expect(h.board.historyOf(CLOSE).map(([, v]) => v)).toEqual([1]); // activeLow: released is 1, never driven
    expect((await call('POST', '/api/devices/nope/open', { token })).status).toBe(404);
    expect((await call('POST', '/api/devices/cam/open', { token })).status).toBe(400);
  });

  it('the I/O page asks the lane itself: CLOSE is refused on a vehicle and within the 1 s hold-off after the loop clears, and allowed after it', async () => {
    const { clock } = await onManualClock({
      devices: [
        {
          id: 'gate',
          type: 'barrier',
          open: { io: 'sim', pin: OPEN },
          close: { io: 'sim', pin: CLOSE, activeLow: true },
          safetyLoop: { io: 'sim', pin: LOOP },
          autoClose: false,
        },
      ],
    });
    const { token } = await login('ian');
    h.board.setInput(LOOP, 1);
    const onCar = await call('POST', `/api/io/sim/${CLOSE}`, { token, body: { value: 1 } });
    expect([onCar.status, onCar.json.error, onCar.json.message]).toEqual([409, 'unsafe', 'gate: vehicle on the safety loop']);
    h.board.setInput(LOOP, 0);
    const inHoldOff = await call('POST', `/api/io/sim/${CLOSE}`, { token, body: { value: 1 } });
    expect([inHoldOff.status, inHoldOff.json.error]).toEqual([409, 'unsafe']);
    expect(inHoldOff.json.message).toBe('gate: safety loop cleared 0 ms ago (hold-off 1000 ms)');
    expect(h.board.historyOf(CLOSE).map(([, v]) => v)).toEqual([1]); // activeLow: never driven
    // Releasing a contact is never unsafe.
    expect((await call('POST', `/api/io/sim/${CLOSE}`, { token, body: { value: 0 } })).status).toBe(200);
    clock.advance(999);
    const edge = await call('POST', `/api/io/sim/${CLOSE}`, { token, body: { value: 1 } });
    expect([edge.status, edge.json.message]).toEqual([409, 'gate: safety loop cleared 999 ms ago (hold-off 1000 ms)']);
    clock.advance(1);
    const after = await call('POST', `/api/io/sim/${CLOSE}`, { token, body: { value: 1 } });
    expect(after.status).toBe(200);
    expect(h.board.read(CLOSE)).toBe(0); // driven (activeLow)
    // It is the barrier's own close: a car arriving under the arm reverses it.
    expect((await call('GET', '/api/devices/gate', { token })).json).toMatchObject({ state: 'closing' });
    h.board.setInput(LOOP, 1);
    expect(h.board.read(CLOSE)).toBe(1);
    expect(h.board.read(OPEN)).toBe(1);
    expect(
      h.events.filter((e) => e.type === 'barrier.closed' || e.type === 'barrier.blocked' || e.type === 'barrier.opened').map((e) => [e.type, e.data]),
    ).toEqual([
      ['barrier.blocked', { reason: 'vehicle on the safety loop', by: 'console', user: 'ian' }],
      ['barrier.blocked', { reason: 'safety loop cleared 0 ms ago (hold-off 1000 ms)', by: 'console', user: 'ian' }],
      ['barrier.blocked', { reason: 'safety loop cleared 999 ms ago (hold-off 1000 ms)', by: 'console', user: 'ian' }],
      ['barrier.blocked', { reason: 'vehicle on the safety loop while closing' }],
      ['barrier.opened', { by: 'safety-loop' }],
    ]);
  });

  it('lists devices with live state and I/O with logical values', async () => {
    await users();
    const { token } = await login('ian');
    const devices = (await call('GET', '/api/devices', { token })).json.devices as Array<{ id: string; state: string }>;
    expect(devices.map((d) => d.id)).toEqual(['door-a', 'gate', 'cam']);
    expect((await call('GET', '/api/devices/gate', { token })).json).toMatchObject({ id: 'gate', type: 'barrier', fault: null });
    const io = (await call('GET', '/api/io', { token })).json as {
      boards: Array<{ id: string; pins: Array<{ pin: number; value: number; direction: string; device: string }> }>;
    };
    expect(io.boards[0]!.pins.find((p) => p.pin === CLOSE)).toMatchObject({ direction: 'out', value: 0, device: 'gate' }); // electrical 1, logical 0
    // sim inputs can be set, in logical terms
    expect((await call('POST', `/api/io/sim/${LOOP}`, { token, body: { value: 1 } })).status).toBe(200);
    expect((await call('GET', '/api/devices/gate', { token })).json).toMatchObject({ vehicle: true });
    expect((await call('POST', '/api/io/sim/99', { token, body: { value: 1 } })).status).toBe(404);
    expect((await call('POST', '/api/io/sim/5', { token, body: { value: 2 } })).status).toBe(400);
  });

  it('pages events by seq and filters by type', async () => {
    await users();
    const { token } = await login('sam');
    for (let i = 0; i < 3; i++) await call('POST', '/api/devices/door-a/open', { token });
    await new Promise((r) => setTimeout(r, 300));
    const all = (await call('GET', '/api/events?limit=1000', { token })).json.events as Array<{ seq: number; type: string }>;
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const page = (await call('GET', '/api/events?after=2&limit=2', { token })).json as { events: Array<{ seq: number }>; next: number };
    expect(page.events.map((e) => e.seq)).toEqual([3, 4]);
    expect(page.next).toBe(4);
    const unlocks = (await call('GET', '/api/events?type=door.unlocked', { token })).json.events as Array<{ type: string; data: { user: string } }>;
    expect(unlocks.length).toBe(3);
    expect(unlocks.every((e) => e.type === 'door.unlocked' && e.data.user === 'sam')).toBe(true);
    for (const bad of ['after=-1', 'limit=0', 'limit=5000', 'after=abc', 'type=DROP%20TABLE']) {
      expect((await call('GET', `/api/events?${bad}`, { token })).status).toBe(400);
    }
  });

  it('lets staff decide on a waiting visitor', async () => {
    await users();
    const { token } = await login('sam');
    const push = await fetch(`${base}/lpr/cam`, { method: 'POST', body: '{"plate":"粤A77777"}', headers: { 'content-type': 'application/json' } });
    expect(await push.json()).toMatchObject({ decision: 'pending' });
    const waiting = (await call('GET', '/api/visitors', { token })).json.waiting as Array<{ id: string; plate: string }>;
    expect(waiting.map((w) => w.plate)).toEqual(['粤A77777']);
    expect((await call('POST', `/api/visitors/${waiting[0]!.id}/allow`, { token })).status).toBe(200);
    expect(h.board.historyOf(OPEN).map(([, v]) => v)).toEqual([0, 1]);
    expect((await call('POST', `/api/visitors/${waiting[0]!.id}/deny`, { token })).status).toBe(404);
  });

  it('serves Prometheus metrics', async () => {
    await fetch(`${base}/lpr/cam`, { method: 'POST', body: '{"plate":"粤B12345"}', headers: { 'content-type': 'application/json' } });
    await fetch(`${base}/lpr/cam`, { method: 'POST', body: '{"plate":', headers: { 'content-type': 'application/json' } });
    const r = await fetch(`${base}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await r.text();
    expect(text).toContain('estate_gateway_camera_pushes_total{camera="cam",result="read"} 1');
    expect(text).toContain('estate_gateway_camera_pushes_total{camera="cam",result="malformed"} 1');
    expect(text).toMatch(/estate_gateway_actuation_seconds_count 1\n/);
    expect(text).toContain('estate_gateway_uplink_connected 0');
    expect(text).toContain('# TYPE estate_gateway_journal_depth gauge');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-\d.e+NaInf]+)$/);
  });

  it('serves the console page, its script modules and stylesheet, under a CSP without inline code', async () => {
    const r = await fetch(`${base}/`);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    const html = await r.text();
    expect(html).toContain('小区网关');
    expect(html).not.toMatch(/<script>|<style>|\son[a-z]+=/); // nothing inline the CSP would block
    for (const [path, type, text] of [
      ['/console/app.js', /javascript/, "from './i18n.js'"],
      ['/console/i18n.js', /javascript/, "from './words-en.js'"],
      ['/console/words-en.js', /javascript/, 'Estate gateway'],
      ['/console/words-zh.js', /javascript/, '小区网关'],
      ['/console/app.css', /text\/css/, '.card'],
    ] as const) {
      const f = await fetch(`${base}${path}`);
      expect([f.status, f.headers.get('content-type')]).toEqual([200, expect.stringMatching(type)]);
      expect(await f.text()).toContain(text);
    }
  });
});
