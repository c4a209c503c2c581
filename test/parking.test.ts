/**
 * A car park as Chinese estates run it (docs/parking.md), end to end: Vzenith cameras push over
 * raw HTTP/1.0 like the camera's own client; the lane opens (or not) before the answer; the
 * answer carries the lane screen's frames (`serialData`), read by a screen written from the
 * vendor document (test/peers/lane-screen.ts); events carry the class; the car park counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../gateway/commands.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import { startAedes, subscribe, until } from './peers/broker.js';
import type { Shown } from './peers/lane-screen.js';
import { serialDataShown } from './peers/lane-screen.js';
import { rawPost } from './peers/raw-http.js';

const IN = 10,
  OUT = 11;
/** A bare date `offsetDays` from today, local time (a bare `until` ends at that day's local midnight). */
const date = (offsetDays: number) => {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

let h: Harness;
afterEach(async () => void (await h?.gateway.stop()));

function site(access: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    devices: [
      { id: 'gate-in', type: 'barrier', open: { io: 'sim', pin: IN }, display: { camera: 'cam-in' } },
      { id: 'gate-out', type: 'barrier', open: { io: 'sim', pin: OUT }, display: { camera: 'cam-out' } },
      { id: 'cam-in', type: 'lpr-camera', vendor: 'vzenith', direction: 'in', lane: 'gate-in', allowFrom: ['127.0.0.1'], repeatWindowSec: 0 },
      { id: 'cam-out', type: 'lpr-camera', vendor: 'vzenith', direction: 'out', lane: 'gate-out', allowFrom: ['127.0.0.1'], repeatWindowSec: 0 },
    ],
    access: {
      visitors: 'record',
      tariff: { freeMinutes: 0, perHourCents: 500 },
      carParks: [{ id: 'p1', name: '地面停车场', capacity: 2, lanes: ['gate-in', 'gate-out'] }],
      plates: [
        { plate: '粤B11111', class: 'monthly', until: date(20), name: 'renewal due' },
        { plate: '粤B22222', class: 'monthly', until: date(200) },
        { plate: '粤B33333', class: 'monthly', until: date(-3) },
        { plate: '粤B44444', class: 'owner' },
        { plate: '粤B55555', class: 'free', name: 'ambulance' },
        { plate: '粤B66666', class: 'blocked' },
        { plate: '粤C10001', class: 'owner', group: '3-1-502', spaces: 1 },
        { plate: '粤C10002', class: 'owner', group: '3-1-502' },
      ],
      ...access,
    },
    ...extra,
  };
}

async function start(access: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  h = await startGateway(site(access, extra), undefined, { listen: '127.0.0.1:0', journal: true });
}

let plateid = 0;
/** A plate push as the camera sends it, over HTTP/1.0; the reply, the screen's frames and the event. */
async function push(camera: 'cam-in' | 'cam-out', plate: string) {
  const body = JSON.stringify({
    AlarmInfoPlate: { channel: 0, deviceName: 'IVS', result: { PlateResult: { license: plate, confidence: 96, plateid: ++plateid } } },
  });
  const answer = await rawPost(h.gateway.address!.port, `/lpr/${camera}`, Buffer.from(body), 'application/json', 'http1.0');
  expect(answer.status).toBe(200);
  const reply = JSON.parse(answer.body);
  const event = h.events.filter((e) => e.type === 'vehicle.entry' || e.type === 'vehicle.exit').at(-1)!;
  return { reply, info: reply.Response_AlarmInfoPlate.info as string, screen: serialDataShown(reply), data: event.data as Record<string, unknown> };
}

/** What the screen shows and says, as text. */
const said = (shown: Shown[]) =>
  shown
    .filter((s) => s.cmd === 'lines')
    .map((s) => ({ lines: (s as Extract<Shown, { cmd: 'lines' }>).lines.map((l) => l.text), voice: (s as Extract<Shown, { cmd: 'lines' }>).voice }));
const health = () => h.gateway.health() as unknown as { carParks: Record<string, { capacity: number; used: number; free: number; full: boolean }> };

describe('classes at the entry, shown and spoken', () => {
  it.each([
    ['粤B22222', 'granted', 'resident', 'monthly', { lines: ['粤B22222', '月租车', '欢迎光临'], voice: '粤B22222，欢迎光临' }],
    ['粤B11111', 'granted', 'resident', 'monthly', { lines: ['粤B11111', '月租剩余20天', '请及时续费'], voice: '粤B11111，月租剩余20天，请及时续费' }],
    ['粤B33333', 'granted', 'expired', 'monthly', { lines: ['粤B33333', '月租已过期', '按临时车收费'], voice: '粤B33333，月租已过期，按临时车收费' }],
    ['粤B44444', 'granted', 'resident', 'owner', { lines: ['粤B44444', '业主车', '欢迎光临'], voice: '粤B44444，欢迎光临' }],
    ['粤B55555', 'granted', 'free', 'free', { lines: ['粤B55555', '免费车', '欢迎光临'], voice: '粤B55555，欢迎光临' }],
    ['粤B66666', 'denied', 'blocked', 'blocked', { lines: ['粤B66666', '黑名单车辆', '禁止通行'], voice: '粤B66666，黑名单车辆，禁止通行' }],
    ['粤A77777', 'granted', 'visitor', 'temporary', { lines: ['粤A77777', '临时车', '欢迎光临'], voice: '粤A77777，欢迎光临' }],
  ] as const)('%s: %s (%s), class %s', async (plate, decision, reason, cls, screen) => {
    await start();
    const r = await push('cam-in', plate);
    expect(r.data).toMatchObject({ plate, decision, reason, class: cls, carPark: 'p1' });
    expect(r.info).toBe(decision === 'granted' ? 'ok' : 'no');
    expect(h.board.historyOf(IN).some(([, v]) => v === 1)).toBe(decision === 'granted');
    expect(said(r.screen)).toEqual([screen]);
  });

  it('the expired monthly car is charged as temporary and takes a space; a blocked car leaves an event staff see', async () => {
    await start();
    expect((await push('cam-in', '粤B33333')).data).toMatchObject({ chargedAs: 'temporary', visitor: true });
    expect(health().carParks['p1']).toMatchObject({ used: 1, free: 1 });
    h.gateway.access.openStays().find((s) => s.plate === '粤B33333')!.enteredAt -= 3600_000; // an hour ago
    const out = await push('cam-out', '粤B33333');
    expect(out.data).toMatchObject({ decision: 'granted', class: 'monthly', chargedAs: 'temporary', feeCents: 500 });
    expect(health().carParks['p1']).toMatchObject({ used: 0 });
    await push('cam-in', '粤B33333');
    const blocked = await push('cam-in', '粤B66666');
    expect(blocked.data).toMatchObject({ decision: 'denied', reason: 'blocked', class: 'blocked' });
    expect(health().carParks['p1']).toMatchObject({ used: 1 });
  });
});

describe('a full car park', () => {
  it('refuses a visitor (the screen says so) and still admits a resident; exits free the spaces', async () => {
    await start();
    await push('cam-in', '粤A00001');
    await push('cam-in', '粤A00002');
    expect(health().carParks['p1']).toEqual({ name: '地面停车场', capacity: 2, used: 2, free: 0, full: true });
    const third = await push('cam-in', '粤A00003');
    expect(third.data).toMatchObject({ decision: 'denied', reason: 'full', class: 'temporary' });
    expect(third.info).toBe('no');
    expect(said(third.screen)).toEqual([{ lines: ['粤A00003', '车位已满', '请勿入场'], voice: '车位已满，请勿入场' }]);
    const resident = await push('cam-in', '粤B44444');
    expect(resident.data).toMatchObject({ decision: 'granted', class: 'owner' });
    expect(health().carParks['p1']!.used).toBe(2);
    const out = await push('cam-out', '粤A00001');
    expect(out.data).toMatchObject({ decision: 'granted', reason: 'exit', class: 'temporary' });
    expect(health().carParks['p1']).toMatchObject({ used: 1, full: false });
    expect((await push('cam-in', '粤A00003')).data).toMatchObject({ decision: 'granted' });
  });

  it('spaces.set corrects the count, kept on disk and published retained as P/state/{carPark}', async () => {
    const broker = await startAedes();
    try {
      await start({}, { upstream: { mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, topicPrefix: 'est/gw' } } });
      const sub = await subscribe(broker.port, 'est/gw/state/p1');
      await until("the car park's retained state", () => sub.json().length > 0);
      expect(sub.json()[0]).toEqual({ capacity: 2, used: 0, free: 2, full: false, name: '地面停车场' });
      const ctx = { id: 'c-9', by: 'platform-user-7', devices: h.gateway.devices, access: h.gateway.access, config: undefined, upgrade: undefined };
      expect(runCommand('spaces.set', { id: 'c-9', action: 'spaces.set', carPark: 'p1', used: 2 }, ctx)).toEqual({
        id: 'c-9',
        ok: true,
        capacity: 2,
        used: 2,
        free: 0,
      });
      expect(runCommand('spaces.set', { id: 'c-10', action: 'spaces.set', carPark: 'p9', used: 2 }, ctx)).toMatchObject({
        ok: false,
        error: 'unknown-car-park',
        message: 'no car park "p9" (known: p1)',
      });
      expect(runCommand('spaces.set', { id: 'c-11', action: 'spaces.set', carPark: 'p1', used: -1 }, ctx)).toMatchObject({ ok: false, error: 'invalid' });
      await until('the corrected count', () => sub.json().some((s) => s['used'] === 2));
      expect(sub.messages.at(-1)!.retain).toBe(false); // live; a new subscriber gets it retained:
      const late = await subscribe(broker.port, 'est/gw/state/p1');
      await until('the retained state for a new subscriber', () => late.messages.length > 0);
      expect([late.messages[0]!.retain, late.json()[0]]).toEqual([true, { capacity: 2, used: 2, free: 0, full: true, name: '地面停车场' }]);
      // kept across a restart
      const { readFileSync } = await import('node:fs');
      expect(JSON.parse(readFileSync(`${h.config.gateway.dataDir}/car-parks.json`, 'utf8'))).toEqual({ used: { p1: 2 } });
      expect((await push('cam-in', '粤A00009')).data).toMatchObject({ decision: 'denied', reason: 'full' });
      await Promise.all([sub.stop(), late.stop()]);
    } finally {
      await h.gateway.stop();
      await broker.stop();
    }
  });
});

describe('one space, several cars (一位多车)', () => {
  it("the household's second car inside is temporary from its entry and pays at exit; the first pays nothing", async () => {
    await start();
    expect((await push('cam-in', '粤C10001')).data).toMatchObject({ decision: 'granted', reason: 'resident', class: 'owner' });
    const second = await push('cam-in', '粤C10002');
    expect(second.data).toMatchObject({ decision: 'granted', reason: 'spaces-taken', class: 'owner', chargedAs: 'temporary', visitor: false });
    expect(said(second.screen)[0]!.lines).toEqual(['粤C10002', '临时车', '欢迎光临']);
    expect(health().carParks['p1']!.used).toBe(1);
    const first = h.gateway.access.openStays().find((s) => s.plate === '粤C10001')!;
    const secondStay = h.gateway.access.openStays().find((s) => s.plate === '粤C10002')!;
    // two hours later (the stays are moved back rather than the clock forward)
    first.enteredAt -= 2 * 3600_000;
    secondStay.enteredAt -= 2 * 3600_000;
    const out2 = await push('cam-out', '粤C10002');
    expect(out2.data).toMatchObject({ decision: 'granted', class: 'owner', chargedAs: 'temporary', feeCents: 1000 });
    const out1 = await push('cam-out', '粤C10001');
    expect(out1.data).toMatchObject({ decision: 'granted', class: 'owner', feeCents: 0 });
    expect(out1.data['chargedAs']).toBeUndefined();
    expect(health().carParks['p1']!.used).toBe(0);
  });
});

describe('already inside, never entered', () => {
  it.each([
    ['allow', 'granted', 'resident'],
    ['refuse', 'denied', 'already-inside'],
    ['ask', 'pending', 'already-inside'],
  ] as const)('an entry of a car already inside under %s: %s', async (policy, decision, reason) => {
    await start({ passback: { alreadyInside: policy } });
    await push('cam-in', '粤B44444');
    const again = await push('cam-in', '粤B44444');
    expect(again.data).toMatchObject({ decision, reason, alreadyInside: true });
    if (decision === 'denied') expect(said(again.screen)[0]!.lines).toEqual(['粤B44444', '车辆已在场内', '禁止通行']);
    if (decision === 'pending') expect(said(again.screen)[0]!.lines).toEqual(['粤B44444', '业主车', '请稍候']);
  });

  it('a visitor re-entering (its exit missed) keeps its one space', async () => {
    await start();
    await push('cam-in', '粤A12345');
    expect((await push('cam-in', '粤A12345')).data).toMatchObject({ decision: 'granted', alreadyInside: true });
    expect(health().carParks['p1']!.used).toBe(1);
  });

  it.each([
    ['allow', 'granted', 'exit-no-entry'],
    ['refuse', 'denied', 'never-entered'],
    ['ask', 'pending', 'never-entered'],
  ] as const)('an exit with no entry under %s: %s', async (policy, decision, reason) => {
    await start({ passback: { neverEntered: policy } });
    const out = await push('cam-out', '粤A54321');
    expect(out.data).toMatchObject({ decision, reason, neverEntered: true, class: 'temporary' });
    expect(h.board.historyOf(OUT).some(([, v]) => v === 1)).toBe(decision === 'granted');
    if (decision === 'denied') expect(said(out.screen)[0]!.lines).toEqual(['粤A54321', '无入场记录', '禁止通行']);
  });

  it('by default (allow) both are let through and flagged', async () => {
    await start();
    expect((await push('cam-out', '粤A54321')).data).toMatchObject({ decision: 'granted', neverEntered: true });
    await push('cam-in', '粤A54321');
    expect((await push('cam-in', '粤A54321')).data).toMatchObject({ decision: 'granted', alreadyInside: true });
  });
});

describe('the idle page and the other camera', () => {
  it('a heartbeat gets the idle page (spaces and time) once the last message has had its time', async () => {
    await start({ screen: { dwellSec: 1 } });
    const heartbeat = async (camera: string) => {
      const a = await rawPost(h.gateway.address!.port, `/lpr/${camera}`, Buffer.from('{"heartbeat":{"countid":1,"timeout":0}}'), 'application/json', 'http1.0');
      return serialDataShown(JSON.parse(a.body));
    };
    const first = await heartbeat('cam-in');
    expect(first.map((s) => s.cmd)).toEqual(['clock', 'lines']);
    expect((first[1] as Extract<Shown, { cmd: 'lines' }>).lines.map((l) => l.text)).toEqual(['欢迎光临', '余位2', expect.stringMatching(/^\d\d:\d\d$/)]);
    expect((first[1] as Extract<Shown, { cmd: 'lines' }>).lines[0]).toMatchObject({ repeat: 0 }); // stays until replaced
    expect(await heartbeat('cam-in')).toEqual([]); // unchanged: nothing sent again
    await push('cam-in', '粤A00001');
    await until(
      'the idle page with one space left',
      async () => (await heartbeat('cam-in')).some((s) => s.cmd === 'lines' && s.lines[1]!.text === '余位1'),
      5000,
    );
  });

  it("a decision by the lane's other camera is shown in the screen camera's next reply", async () => {
    h = await startGateway(
      {
        ...site(),
        devices: [...site().devices, { id: 'cam-in-b', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate-in', allowFrom: ['127.0.0.1'] }],
      },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    const other = await rawPost(
      h.gateway.address!.port,
      '/lpr/cam-in-b',
      Buffer.from(JSON.stringify({ plate: '粤B44444', confidence: 97 })),
      'application/json',
      'http1.0',
    );
    expect(other.status).toBe(200);
    expect(other.body).not.toContain('serialData');
    const a = await rawPost(h.gateway.address!.port, '/lpr/cam-in', Buffer.from('{"heartbeat":{"countid":1,"timeout":0}}'), 'application/json', 'http1.0');
    expect(said(serialDataShown(JSON.parse(a.body)))).toEqual([{ lines: ['粤B44444', '业主车', '欢迎光临'], voice: '粤B44444，欢迎光临' }]);
  });
});

describe("the doctor's look at lane screens", () => {
  it('passes a screen port that is there, fails one that is not with the hint, and leaves a camera-fed screen to its camera', async () => {
    const { laneScreenDoctor } = await import('../devices/lane-display-check.js');
    const display = (d: Record<string, unknown>) => ({
      channel: 0 as const,
      baudRate: 9600,
      address: 0,
      lines: 4,
      width: 16,
      voice: true,
      spacesPage: false,
      ...d,
    });
    const checks = await laneScreenDoctor([
      { id: 'gate-a', display: display({ port: '/dev/null' }) },
      { id: 'gate-b', display: display({ port: '/dev/eg-test-no-such-screen' }) },
      { id: 'gate-c', display: display({ camera: 'cam-c' }) },
      { id: 'gate-d' },
    ]);
    expect(checks).toEqual([
      { name: 'screen gate-a', result: 'ok', detail: '/dev/null is there and writable (9600 baud, address 0)' },
      {
        name: 'screen gate-b',
        result: 'FAIL',
        detail: '/dev/eg-test-no-such-screen is missing or not writable',
        hint: "plug the USB-RS485 adapter in and give its stable name (ls -l /dev/serial/by-id/); the service's user needs the dialout group",
      },
      { name: 'screen gate-c', result: 'ok', detail: "through camera cam-c, RS485 port 0: it gets the frames in that camera's replies (see its line)" },
    ]);
  });
});

describe('validate, for lanes with screens and car parks', () => {
  const problemsOf = async (extra: { devices?: unknown[]; access?: Record<string, unknown> }) => {
    const { validateConfig } = await import('../config/load.js');
    const base = site();
    const result = validateConfig({
      site: { id: 's' },
      gateway: { id: 'g', dataDir: '/tmp/eg-unused' },
      io: [{ id: 'sim', type: 'sim' }],
      devices: [...base.devices, ...(extra.devices ?? [])],
      access: { ...base.access, ...extra.access },
    });
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('accepts the lanes above', async () => {
    expect(await problemsOf({})).toEqual([]);
  });

  it('refuses a template that cannot fit a screen, naming the template and the lane, and an unknown placeholder', async () => {
    expect(await problemsOf({ access: { screen: { messages: { welcome: { lines: ['欢迎光临 {plate} {klass}'], voice: '{plate}' } } } } })).toEqual([
      'access.screen.messages.welcome.lines[0]: unknown placeholder {klass} (known: {plate}, {class}, {days}, {until}, {fee}, {duration}, {spaces}, {reason}, {time})',
      'access.screen.messages.welcome.lines[0]: "欢迎光临 {plate} {klass}" can take 20 cells (a Chinese character takes 2); the screen of gate-in is 16 wide (devices[0].display.width)',
      'access.screen.messages.welcome.lines[0]: "欢迎光临 {plate} {klass}" can take 20 cells (a Chinese character takes 2); the screen of gate-out is 16 wide (devices[1].display.width)',
    ]);
  });

  it('says once per lane when the built-in messages do not fit a narrow screen', async () => {
    const narrow = site().devices.map((d) => (d.id === 'gate-in' ? { ...d, display: { camera: 'cam-in', width: 8 } } : d));
    const { validateConfig } = await import('../config/load.js');
    const result = validateConfig({
      site: { id: 's' },
      gateway: { id: 'g', dataDir: '/tmp/eg-unused' },
      io: [{ id: 'sim', type: 'sim' }],
      devices: narrow,
      access: site().access,
    });
    expect(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'devices[0].display.width: the built-in messages need 16 cells per line (e.g. "停车{duration}"); this screen is 8 wide: write access.screen.messages that fit it',
    ]);
  });

  it('refuses a screen through a camera that cannot pass bytes, or of another lane, and car parks that do not add up', async () => {
    expect(
      await problemsOf({
        devices: [
          { id: 'gate-hik', type: 'barrier', open: { io: 'sim', pin: 20 }, display: { camera: 'cam-hik' } },
          { id: 'cam-hik', type: 'lpr-camera', vendor: 'hikvision', direction: 'in', lane: 'gate-hik', allowFrom: ['127.0.0.1'] },
          { id: 'gate-x', type: 'barrier', open: { io: 'sim', pin: 21 }, display: { camera: 'cam-in' } },
          { id: 'gate-y', type: 'barrier', open: { io: 'sim', pin: 22 }, display: {} },
        ],
        access: {
          carParks: [
            { id: 'p1', capacity: 2, lanes: ['gate-in'] },
            { id: 'cam-in', capacity: 1, lanes: ['gate-in', 'cam-out', 'gate-z'] },
          ],
        },
      }),
    ).toEqual([
      'devices[7].display.camera: give camera (its RS485 passthrough) or port (a serial port of the gateway)',
      'devices[4].display.camera: "cam-hik" is a hikvision camera; only Vzenith/Alphadigi cameras (vendor: vzenith) pass bytes to a screen: wire the screen to a serial port of the gateway instead (display.port)',
      'devices[6].display.camera: "cam-in" watches lane gate-in, not gate-x; a screen is fed through a camera of its own lane',
      'access.carParks[1].id: "cam-in" is also a device id; a car park needs an id of its own (both name P/state/{id})',
      'access.carParks[1].lanes[0]: lane gate-in already counts for car park p1; a lane counts for one car park',
      'access.carParks[1].lanes[1]: "cam-out" is a lpr-camera; a car park\'s lanes are barriers and bollards',
      'access.carParks[1].lanes[2]: no barrier or bollard "gate-z"; did you mean "gate-x"?',
    ]);
  });
});
