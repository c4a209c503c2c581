import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, multipart } from './lpr-fixtures.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';

const OPEN = 10,
  LOOP = 12,
  LOWER = 30,
  RAISE = 31,
  BLOOP = 32,
  TRIGGER = 15;

const devices = (extra: Record<string, unknown> = {}) => [
  { id: 'gate', type: 'barrier', open: { io: 'sim', pin: OPEN }, safetyLoop: { io: 'sim', pin: LOOP } },
  { id: 'post', type: 'bollard', lower: { io: 'sim', pin: LOWER }, raise: { io: 'sim', pin: RAISE }, safetyLoop: { io: 'sim', pin: BLOOP } },
  { id: 'cam-hik', type: 'lpr-camera', vendor: 'hikvision', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'], trigger: { io: 'sim', pin: TRIGGER } },
  { id: 'cam-dahua', type: 'lpr-camera', vendor: 'dahua', direction: 'in', lane: 'post', allowFrom: ['127.0.0.0/8'] },
  { id: 'cam-vz', type: 'lpr-camera', vendor: 'vzenith', direction: 'out', lane: 'gate', allowFrom: ['::1', '127.0.0.1'] },
  { id: 'cam-gen', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'], ...extra },
  { id: 'cam-far', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['192.168.1.64'] },
];

let h: Harness;
afterEach(async () => void (await h?.gateway.stop()));

async function start(access: Record<string, unknown> = { visitors: 'record', plates: [{ plate: '粤B12345' }] }, upstream?: unknown) {
  h = await startGateway({ devices: devices(), access, ...(upstream ? { upstream } : {}) }, undefined, { listen: '127.0.0.1:0' });
}

interface Answer {
  status: number;
  body: string;
  json: () => Record<string, unknown>;
}

/** POSTs raw bytes with node:http (fetch would rewrite some headers). */
function post(path: string, body: Buffer | string, contentType?: string): Promise<Answer> {
  const { port } = h.gateway.address!;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: contentType ? { 'content-type': contentType } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const vehicleEvents = () => h.events.filter((e) => e.type.startsWith('vehicle.')).map((e) => [e.type, e.device, e.data]);

describe('camera pushes', () => {
  it('a resident read by a Hikvision camera opens the lane before the reply', async () => {
    await start();
    const answer = await post('/lpr/cam-hik', fixture('hikvision-anpr.xml'), 'application/xml');
    expect(answer.status).toBe(200);
    expect(h.board.historyOf(OPEN).map(([, v]) => v)).toEqual([0, 1]); // written, pulse still on
    expect(vehicleEvents()).toEqual([
      [
        'vehicle.entry',
        'cam-hik',
        {
          plate: '粤B12345',
          confidence: 98,
          lane: 'gate',
          decision: 'granted',
          reason: 'resident',
          visitor: false,
          class: 'owner',
          plateColor: 'blue',
          cameraTime: '2026-11-22T10:00:00+08:00',
        },
      ],
    ]);
    expect(h.events.find((e) => e.type === 'barrier.opened')?.data).toEqual({ by: 'camera', user: 'cam-hik' });
  });

  it('reads multipart pushes with pictures', async () => {
    await start();
    const { body, contentType } = multipart(fixture('hikvision-anpr-isapi.xml'), { jpegType: 'application/octet-stream' });
    expect((await post('/lpr/cam-hik', body, contentType)).status).toBe(200);
    expect(vehicleEvents()).toHaveLength(1);
  });

  it('records an unknown plate and opens nothing', async () => {
    await start();
    expect((await post('/lpr/cam-hik', fixture('hikvision-anpr-unknown.xml'), 'application/xml')).status).toBe(200);
    expect(vehicleEvents()).toEqual([
      [
        'vehicle.entry',
        'cam-hik',
        {
          plate: 'unknown',
          confidence: 0,
          lane: 'gate',
          decision: 'denied',
          reason: 'no-plate',
          visitor: false,
          class: 'temporary',
          plateColor: 'blue',
          cameraTime: '2026-11-22T10:00:00+08:00',
        },
      ],
    ]);
    expect(h.board.historyOf(OPEN)).toHaveLength(1);
  });

  it('Dahua: fixed paths matched by address, answered {"Result":true}, heartbeats update health', async () => {
    await start();
    const answer = await post('/NotificationInfo/TollgateInfo', fixture('dahua-itsapi-tollgate.json'), 'application/json');
    expect([answer.status, answer.json()]).toEqual([200, { Result: true }]);
    expect(h.board.historyOf(LOWER).map(([, v]) => v)).toEqual([0, 1]);
    expect(vehicleEvents()[0]).toMatchObject(['vehicle.entry', 'cam-dahua', { decision: 'granted', lane: 'post' }]);
    const keep = await post('/NotificationInfo/KeepAlive', '{}', 'application/json');
    expect([keep.status, keep.json()]).toEqual([200, { Result: true }]);
    expect(h.gateway.devices.get('cam-dahua')!.snapshot()).toMatchObject({ state: 'online', lastAddress: '127.0.0.1', pushes: { read: 1, heartbeat: 1 } });
  });

  it('Vzenith: the reply opens the camera’s own barrier only when granted', async () => {
    await start({ visitors: 'deny', plates: [] });
    const answer = await post('/lpr/cam-vz', fixture('vzenith-alarminfoplate.json'), 'application/json');
    // an exit: granted (nobody is kept in), paired with no entry
    expect(answer.json()).toEqual({ Response_AlarmInfoPlate: { info: 'ok', plateid: 12345, channelNum: 0 } });
    const doc = JSON.parse(fixture('vzenith-alarminfoplate.json').toString());
    doc.AlarmInfoPlate.result.PlateResult.confidence = 50;
    doc.AlarmInfoPlate.result.PlateResult.license = '粤A00001';
    const low = await post('/lpr/cam-vz', JSON.stringify(doc), 'text/plain');
    expect(low.json()).toEqual({ Response_AlarmInfoPlate: { info: 'no', plateid: 12345, channelNum: 0 } });
  });

  it('pairs an exit with its entry: duration and fee', async () => {
    await start({ visitors: 'record', plates: [], tariff: { freeMinutes: 0, perHourCents: 500 } });
    await post('/lpr/cam-gen', '{"plate":"粤A77777"}', 'application/json');
    const answer = await post('/lpr/cam-vz', fixture('vzenith-alarminfoplate.json').toString().replace('粤B12345', '粤A77777'), 'application/json');
    expect(answer.json()).toMatchObject({ Response_AlarmInfoPlate: { info: 'ok' } });
    expect(vehicleEvents()[1]).toEqual([
      'vehicle.exit',
      'cam-vz',
      expect.objectContaining({ plate: '粤A77777', decision: 'granted', reason: 'exit', visitor: true, durationSec: 0, feeCents: 0 }),
    ]);
  });

  it('one passage per plate per camera within the repeat window', async () => {
    await start();
    const first = await post('/lpr/cam-gen', '{"plate":"粤B12345"}', 'application/json');
    const again = await post('/lpr/cam-gen', '{"plate":"粤B·12345","confidence":90}', 'application/json');
    expect(first.json()).toEqual({ ok: true, decision: 'granted', reason: 'resident' });
    expect(again.json()).toEqual(first.json());
    expect(vehicleEvents()).toHaveLength(1);
    expect(h.gateway.devices.get('cam-gen')!.snapshot()).toMatchObject({ pushes: { read: 1, suppressed: 1 } });
  });

  it('refuses pushes from addresses not in allowFrom (403) and counts them', async () => {
    await start();
    const answer = await post('/lpr/cam-far', '{"plate":"粤B12345"}', 'application/json');
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({ error: 'forbidden', message: 'cam-far does not accept pushes from 127.0.0.1' });
    expect(h.gateway.devices.get('cam-far')!.snapshot()).toMatchObject({ pushes: { refused: 1 } });
    expect(vehicleEvents()).toEqual([]);
    expect((await post('/lpr/nobody', '{}', 'application/json')).status).toBe(404);
  });

  it('answers 413 to an oversized body, 400 with the reason to a malformed one, and keeps working', async () => {
    await start();
    const big = await post('/lpr/cam-hik', Buffer.alloc(5 * 1024 * 1024, 0x20), 'application/xml');
    expect(big.status).toBe(413);
    expect(big.json()).toMatchObject({ error: 'too-large' });
    const bad = await post('/lpr/cam-gen', '{"plate":', 'application/json');
    expect([bad.status, bad.json()]).toEqual([400, { error: 'malformed', message: expect.stringContaining('body is not JSON') }]);
    const noType = await post('/lpr/cam-gen', '{"plate":"粤B12345"}');
    expect(noType.status).toBe(200);
    expect(h.gateway.devices.get('cam-hik')!.snapshot()).toMatchObject({ pushes: { 'too-large': 1 } });
    expect(h.gateway.devices.get('cam-gen')!.snapshot()).toMatchObject({ pushes: { malformed: 1, read: 1 } });
  });

  it('under ask, holds a visitor until staff decide, then opens', async () => {
    await start({ visitors: 'ask', plates: [] });
    const answer = await post('/lpr/cam-gen', '{"plate":"粤A77777"}', 'application/json');
    expect(answer.json()).toEqual({ ok: true, decision: 'pending', reason: 'visitor' });
    expect(h.board.historyOf(OPEN)).toHaveLength(1);
    const [waiting] = h.gateway.access.waiting();
    expect(waiting).toMatchObject({ plate: '粤A77777', lane: 'gate', camera: 'cam-gen' });
    const entry = h.events.find((e) => e.type === 'vehicle.entry')!;
    expect(entry.data).toMatchObject({ decision: 'pending', pendingId: waiting!.id });
    h.gateway.access.settle(waiting!.id, { decision: 'granted', by: 'console', user: 'guard1' });
    expect(h.board.historyOf(OPEN).map(([, v]) => v)).toEqual([0, 1]);
    expect(h.events.find((e) => e.type === 'vehicle.decided')?.data).toEqual({
      pendingId: waiting!.id,
      plate: '粤A77777',
      lane: 'gate',
      direction: 'in',
      decision: 'granted',
      by: 'console',
      user: 'guard1',
      eventId: entry.id,
    });
  });

  it('pulses the capture trigger when the lane loop sees a car', async () => {
    await start();
    h.board.setInput(LOOP, 1);
    expect(h.board.historyOf(TRIGGER).map(([, v]) => v)).toEqual([0, 1]);
  });

  it('decides with the broker down', async () => {
    await start(undefined, { mqtt: { url: 'mqtt://127.0.0.1:1' } });
    const answer = await post('/lpr/cam-gen', '{"plate":"粤B12345"}', 'application/json');
    expect(answer.json()).toMatchObject({ decision: 'granted' });
    expect(h.board.historyOf(OPEN).map(([, v]) => v)).toEqual([0, 1]);
  });

  it('keeps lanes open through the fire alarm whatever a camera reads', async () => {
    h = await startGateway({ devices: devices(), access: { visitors: 'deny', plates: [] }, fireAlarm: { input: { io: 'sim', pin: 20 } } }, undefined, {
      listen: '127.0.0.1:0',
    });
    h.board.setInput(20, 1);
    await new Promise((r) => setTimeout(r, 200)); // past the fire input's debounce
    expect(h.board.read(OPEN)).toBe(1);
    await post('/lpr/cam-gen', '{"plate":"粤A77777"}', 'application/json');
    expect(h.board.read(OPEN)).toBe(1);
  });
});
