/**
 * What real cameras send (test/fixtures/lpr/field/, each with its origin in the README there),
 * sent the way the cameras send it: raw HTTP/1.0 and HTTP/1.1 over a socket, chunked or with a
 * length, multipart with pictures, GBK from older firmware. Asserted by what a guard and a
 * platform see: the lane output, the vendor's reply, the event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import { field } from './lpr-fixtures.js';
import type { Raw, RawMode } from './peers/raw-http.js';
import { rawPost } from './peers/raw-http.js';

const OPEN = 10,
  LOOP = 12,
  LOWER = 30,
  RAISE = 31,
  BLOOP = 32;

let h: Harness;
afterEach(async () => void (await h?.gateway.stop()));

async function start(access: Record<string, unknown>) {
  h = await startGateway(
    {
      devices: [
        { id: 'gate', type: 'barrier', open: { io: 'sim', pin: OPEN }, safetyLoop: { io: 'sim', pin: LOOP } },
        { id: 'post', type: 'bollard', lower: { io: 'sim', pin: LOWER }, raise: { io: 'sim', pin: RAISE }, safetyLoop: { io: 'sim', pin: BLOOP } },
        { id: 'cam-hik', type: 'lpr-camera', vendor: 'hikvision', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
        { id: 'cam-vz', type: 'lpr-camera', vendor: 'vzenith', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
        { id: 'cam-dahua', type: 'lpr-camera', vendor: 'dahua', direction: 'in', lane: 'post', allowFrom: ['127.0.0.1'] },
      ],
      access,
    },
    undefined,
    { listen: '127.0.0.1:0', journal: true },
  );
}

/** One request written to the socket byte for byte, as a camera's own HTTP client does it (test/peers/raw-http.ts). */
function send(path: string, body: Buffer, contentType: string, mode: RawMode = 'length'): Promise<Raw> {
  return rawPost(h.gateway.address!.port, path, body, contentType, mode);
}

const vehicles = () => h.events.filter((e) => e.type.startsWith('vehicle.')).map((e) => e.data as Record<string, unknown>);

describe('Hikvision captures from the field', () => {
  it('Chinese firmware: the colour in front of the plate (蓝皖A7XG66) is split off, and the resident on the list is let in', async () => {
    await start({ visitors: 'deny', plates: [{ plate: '皖A7XG66' }] });
    const answer = await send('/lpr/cam-hik', field('hikvision-anpr-cn-colour-prefix.xml'), 'application/xml; charset="UTF-8"', 'http1.0');
    expect(answer.status).toBe(200);
    expect(h.board.read(OPEN)).toBe(1);
    expect(vehicles()).toEqual([
      {
        plate: '皖A7XG66',
        rawPlate: '蓝皖A7XG66',
        confidence: 97,
        lane: 'gate',
        decision: 'granted',
        reason: 'resident',
        visitor: false,
        class: 'owner',
        plateColor: 'blue',
        cameraTime: '2023-10-10T18:21:01+08:00',
      },
    ]);
  });

  it("the camera's own list verdict (vehicleListName) is recorded, not obeyed: the gateway's list decides", async () => {
    await start({ visitors: 'deny', plates: [{ plate: 'ZG6140G' }] });
    const answer = await send('/lpr/cam-hik', field('hikvision-anpr-vehiclelist.xml'), 'application/xml; charset="UTF-8"', 'chunked');
    expect(answer.status).toBe(200);
    expect(vehicles()).toMatchObject([{ plate: 'ZG6140G', decision: 'granted', reason: 'resident', cameraList: 'other', unusualPlate: true }]);
    expect(h.board.read(OPEN)).toBe(1);
  });

  it('an ISAPI traffic camera posting multipart with per-part Content-Length, chunked: read and decided on its confidence', async () => {
    await start({ visitors: 'deny', plates: [{ plate: '苏A8HK52' }] });
    const body = field('hikvision-anpr-isapi-multipart.bin');
    const answer = await send('/lpr/cam-hik', body, 'multipart/form-data; boundary=-------------------------7e13971310878', 'chunked');
    expect(answer.status).toBe(200);
    // A real read below the camera's minConfidence (80): a resident, but not opened on a guess.
    expect(vehicles()).toMatchObject([
      { plate: '苏A8HK52', confidence: 78, decision: 'denied', reason: 'low-confidence', plateColor: 'blue', cameraTime: '2034-01-04T15:57:03+08:00' },
    ]);
    expect(h.board.read(OPEN)).toBe(0);
  });

  it('the same capture from older firmware in GBK, over HTTP/1.0, reads the same plate', async () => {
    await start({ visitors: 'deny', plates: [{ plate: '皖A7XG66' }] });
    const utf8 = field('hikvision-anpr-cn-colour-prefix.xml').toString('utf8').replace('encoding="UTF-8"', 'encoding="GB2312"');
    const gbk = encodeGbk(utf8);
    expect(gbk.equals(Buffer.from(utf8))).toBe(false);
    const answer = await send('/lpr/cam-hik', gbk, 'text/xml', 'http1.0');
    expect(answer.status).toBe(200);
    expect(vehicles()).toMatchObject([{ plate: '皖A7XG66', decision: 'granted' }]);
  });

  it('a no-plate read ("noPlate") is recorded as no plate and opens nothing', async () => {
    await start({ visitors: 'record' });
    const xml = field('hikvision-anpr-cn-colour-prefix.xml').toString().replace('蓝皖A7XG66', 'noPlate');
    expect((await send('/lpr/cam-hik', Buffer.from(xml), 'application/xml')).status).toBe(200);
    expect(vehicles()).toMatchObject([{ plate: 'unknown', decision: 'denied', reason: 'no-plate' }]);
    expect(h.board.read(OPEN)).toBe(0);
  });
});

describe('Vzenith/Alphadigi as the vendor documents it', () => {
  it('a plate read is answered info "ok" with its plateid only when granted', async () => {
    await start({ visitors: 'deny', plates: [{ plate: '粤Z9065澳' }] });
    const answer = await send('/lpr/cam-vz', field('vzenith-alarminfoplate-vendor-doc.json'), 'application/json', 'http1.0');
    expect(JSON.parse(answer.body)).toEqual({ Response_AlarmInfoPlate: { info: 'ok', plateid: 21085, channelNum: 0 } });
    expect(vehicles()).toMatchObject([{ plate: '粤Z9065澳', decision: 'granted', plateColor: 'black' }]);
  });

  it('a refused car never gets "ok"', async () => {
    await start({ visitors: 'deny' });
    const answer = await send('/lpr/cam-vz', field('vzenith-alarminfoplate-vendor-doc.json'), 'application/json');
    expect(JSON.parse(answer.body)).toEqual({ Response_AlarmInfoPlate: { info: 'no', plateid: 21085, channelNum: 0 } });
    expect(h.board.read(OPEN)).toBe(0);
  });

  it('offline records resent after an outage are recorded late, move nothing, and are answered ContinuePushOffline so the next one comes', async () => {
    await start({ visitors: 'record', plates: [{ plate: '粤Z9065澳' }] });
    const resident = JSON.parse(field('vzenith-alarminfoplate-vendor-doc.json').toString()) as {
      AlarmInfoPlate: { result: { PlateResult: Record<string, unknown> } };
    };
    resident.AlarmInfoPlate.result.PlateResult['isoffline'] = 1;
    const answers = [
      await send('/lpr/cam-vz', field('vzenith-offline-record-vendor-doc.json'), 'application/json'),
      await send('/lpr/cam-vz', Buffer.from(JSON.stringify(resident)), 'application/json'),
    ];
    expect(answers.map((a) => JSON.parse(a.body))).toEqual([
      { Response_AlarmInfoPlate: { ContinuePushOffline: { plateid: 123, continue: 1 } } },
      { Response_AlarmInfoPlate: { ContinuePushOffline: { plateid: 21085, continue: 1 } } },
    ]);
    expect(vehicles()).toMatchObject([
      { plate: 'unknown', late: true, cameraTime: '2015-09-09T16:12:51.672Z' },
      { plate: '粤Z9065澳', decision: 'granted', late: true },
    ]);
    expect(h.board.read(OPEN)).toBe(0); // a granted car from the backlog opens nothing
  });

  it('the multipart registration/heartbeat is a heartbeat, answered without "ok", and marks the camera seen', async () => {
    await start({ visitors: 'record' });
    const answer = await send(
      '/lpr/cam-vz',
      field('vzenith-heartbeat-multipart.bin'),
      'multipart/form-data; boundary=------------------------caa771fe4a61f3d9',
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ Response_AlarmInfoPlate: {} });
    expect(h.gateway.pushSources.get('cam-vz')!.counts).toMatchObject({ heartbeat: 1, malformed: 0 });
    expect((h.gateway.health()['cameras'] as Record<string, { lastSeenAt: string | null }>)['cam-vz']?.lastSeenAt).not.toBeNull();
    expect(h.board.read(OPEN)).toBe(0);
  });

  it('IO-input and RS485 pushes are seen and ignored, not malformed', async () => {
    await start({ visitors: 'record' });
    const gio = {
      AlarmGioIn: { deviceName: 'IVS', ipaddr: '192.168.109.40', result: { TriggerResult: { source: 3, value: 1 } }, serialno: 'd85b1269-8f942256' },
    };
    const serial = {
      SerialData: { channel: 0, serialno: 'cead13eb-1a198cd7', ipaddr: '192.168.1.100', deviceName: 'IVS', serialChannel: 0, data: 'Y2guY29tFw==', dataLen: 7 },
    };
    for (const body of [gio, serial]) {
      const answer = await send('/lpr/cam-vz', Buffer.from(JSON.stringify(body)), 'application/json');
      expect([answer.status, answer.body.includes('"ok"')]).toEqual([200, false]);
    }
    expect(h.gateway.pushSources.get('cam-vz')!.counts).toMatchObject({ ignored: 2, malformed: 0 });
  });
});

describe('Dahua ITSAPI notifications', () => {
  it('the registration (DeviceInfo) from a known camera is answered as the camera expects and recorded as seen', async () => {
    await start({ visitors: 'record' });
    const answer = await send('/NotificationInfo/DeviceInfo', field('dahua-deviceinfo.json'), 'application/json');
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { Result: true, Message: 'Success' }]);
    expect(h.gateway.pushSources.get('cam-dahua')!.counts).toMatchObject({ heartbeat: 1 });
    expect((h.gateway.health()['cameras'] as Record<string, { lastSeenAt: string | null }>)['cam-dahua']?.lastSeenAt).not.toBeNull();
    const other = await send('/NotificationInfo/ParkingInfo', Buffer.from('{"Picture":{}}'), 'application/json');
    expect([other.status, JSON.parse(other.body)]).toEqual([200, { Result: true, Message: 'Success' }]);
    expect(h.gateway.pushSources.get('cam-dahua')!.counts).toMatchObject({ ignored: 1, malformed: 0 });
  });
});

/** GBK bytes for the characters these captures use, through Node's own GB18030 decoder run backwards. */
function encodeGbk(text: string): Buffer {
  const decoder = new TextDecoder('gb18030');
  const table = new Map<string, Buffer>();
  for (let hi = 0x81; hi <= 0xfe; hi++) {
    for (let lo = 0x40; lo <= 0xfe; lo++) {
      if (lo === 0x7f) continue;
      const bytes = Buffer.from([hi, lo]);
      const ch = decoder.decode(bytes);
      if (ch.length === 1 && !table.has(ch)) table.set(ch, bytes);
    }
  }
  return Buffer.concat([...text].map((ch) => (ch.charCodeAt(0) < 0x80 ? Buffer.from(ch) : (table.get(ch) ?? Buffer.from('?')))));
}
