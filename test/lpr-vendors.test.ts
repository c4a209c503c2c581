import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAMERA_PROTOCOLS, PushError } from '../drivers/lpr/index.js';
import { parseMultipart } from '../drivers/lpr/multipart.js';
import { fixture, multipart } from './lpr-fixtures.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const { hikvision, dahua, vzenith, generic } = CAMERA_PROTOCOLS;

/** The contract's camera samples, beside the repository when it is there; copies are in test/fixtures/lpr/ (docs/development.md). */
const CONTRACT_SAMPLES = here('../../shared/contract/samples/');

describe('the recorded vendor bodies', () => {
  it.runIf(existsSync(CONTRACT_SAMPLES))('are the contract samples, unchanged', () => {
    for (const name of ['hikvision-anpr.xml', 'dahua-itsapi-tollgate.json', 'vzenith-alarminfoplate.json']) {
      expect(fixture(name).equals(readFileSync(`${CONTRACT_SAMPLES}${name}`)), name).toBe(true);
    }
  });
});

describe('hikvision', () => {
  const read = { kind: 'read', plate: '粤B12345', confidence: 98, cameraTime: '2026-11-22T10:00:00+08:00', plateColor: 'blue' };

  it.each(['hikvision-anpr.xml', 'hikvision-anpr-isapi.xml', 'hikvision-anpr-stdcgi.xml', 'hikvision-anpr-prefixed.xml'])('reads %s as bare XML', (name) => {
    expect(hikvision.parse(fixture(name), 'application/xml', '/lpr/cam')).toEqual(read);
  });

  it('reads a decimal confidence and a new-energy plate', () => {
    expect(hikvision.parse(fixture('hikvision-anpr-decimal.xml'), 'text/xml', '/lpr/cam')).toMatchObject({ plate: '粤BD12345', confidence: 87.5 });
  });

  it('reads an unknown plate with confidence 0 (to be recorded, not dropped)', () => {
    expect(hikvision.parse(fixture('hikvision-anpr-unknown.xml'), 'application/xml', '/')).toMatchObject({ kind: 'read', plate: 'unknown', confidence: 0 });
  });

  it('tells heartbeats and other event types apart', () => {
    expect(hikvision.parse(fixture('hikvision-heartbeat.xml'), 'application/xml', '/')).toEqual({ kind: 'heartbeat' });
    const other = fixture('hikvision-heartbeat.xml')
      .toString()
      .replace(/heartBeat/g, 'VMD');
    expect(hikvision.parse(Buffer.from(other), 'application/xml', '/')).toEqual({ kind: 'ignored', what: 'eventType "VMD"' });
  });

  it('marks a retransmitted read', () => {
    const resent = fixture('hikvision-anpr.xml').toString().replace('<isDataRetransmission>false', '<isDataRetransmission>true');
    expect(hikvision.parse(Buffer.from(resent), 'application/xml', '/')).toMatchObject({ retransmission: true });
  });

  it.each([
    ['XML part as application/xml, JPEGs as image/jpeg', {}],
    ['JPEGs as application/octet-stream', { jpegType: 'application/octet-stream' }],
    ['XML part without a Content-Type, found by its file name', { xmlType: null }],
    ['XML part named otherwise and typed text/xml', { xmlName: 'ANPR', xmlType: 'text/xml' }],
    ['bare LF line ends', { crlf: false }],
    ['a quoted boundary with odd characters', { boundary: '----=_Part_7_a.b+c' }],
  ] as Array<[string, Parameters<typeof multipart>[1] & {}]>)('reads multipart bodies: %s', (_what, opts) => {
    const { body, contentType } = multipart(fixture('hikvision-anpr.xml'), opts);
    const type = opts.boundary ? `multipart/form-data; boundary="${opts.boundary}"` : contentType;
    expect(hikvision.parse(body, type, '/lpr/cam')).toEqual(read);
  });

  it('finds the XML part by its content when nothing else names it', () => {
    const { body } = multipart(fixture('hikvision-anpr-isapi.xml'), { xmlName: 'file', xmlType: null });
    expect(hikvision.parse(body, 'multipart/form-data; boundary=MIME_boundary', '/')).toMatchObject({ plate: '粤B12345' });
  });

  it.each([
    ['', 'empty body'],
    ['<EventNotificationAlert><eventType>ANPR', 'body is not well-formed XML: line 1: unclosed elements EventNotificationAlert, eventType'],
    ['<Other/>', 'XML is not an EventNotificationAlert'],
    ['<EventNotificationAlert><eventType>ANPR</eventType></EventNotificationAlert>', 'ANPR alert without an ANPR element'],
    ['<EventNotificationAlert><ANPR><line>1</line></ANPR></EventNotificationAlert>', 'ANPR element without a licensePlate'],
    [
      '<EventNotificationAlert><ANPR><licensePlate>粤B1</licensePlate><confidenceLevel>high</confidenceLevel></ANPR></EventNotificationAlert>',
      'ANPR.confidenceLevel: expected a confidence 0-100, got "high"',
    ],
    ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EventNotificationAlert/>', 'XML with a DOCTYPE or ENTITY declaration is not accepted'],
    ['not xml at all', "body is not well-formed XML: line 1: char 'n' is not expected."],
  ])('refuses %j: %s', (body, reason) => {
    expect(() => hikvision.parse(Buffer.from(body), 'application/xml', '/')).toThrow(new PushError(reason));
  });

  it('refuses multipart bodies without a boundary, without the boundary, or without an XML part', () => {
    expect(() => hikvision.parse(Buffer.from('x'), 'multipart/form-data', '/')).toThrow(/without a boundary/);
    expect(() => hikvision.parse(Buffer.from('x'), 'multipart/form-data; boundary=abc', '/')).toThrow(/does not contain its boundary/);
    const jpegOnly = Buffer.from('--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: form-data; name="p.jpg"\r\n\r\n\xff\xd8\r\n--b--\r\n', 'latin1');
    expect(() => hikvision.parse(jpegOnly, 'multipart/form-data; boundary=b', '/')).toThrow(/no XML part \(parts: p.jpg\)/);
  });

  it('answers 200 with a JSON body', () => {
    expect(hikvision.reply({ kind: 'heartbeat' })).toMatchObject({ status: 200 });
  });
});

describe('dahua', () => {
  it('reads the ITSAPI tollgate sample', () => {
    expect(dahua.parse(fixture('dahua-itsapi-tollgate.json'), 'application/json', '/NotificationInfo/TollgateInfo')).toEqual({
      kind: 'read',
      plate: '粤B12345',
      confidence: 96,
      cameraTime: '2026-11-22 10:00:00.120',
      plateColor: 'Blue',
    });
  });

  it('reads a push without a plate as no plate', () => {
    const doc = JSON.parse(fixture('dahua-itsapi-tollgate.json').toString());
    doc.Picture.Plate.IsExist = false;
    doc.Picture.Plate.PlateNumber = '';
    delete doc.Picture.Plate.Confidence;
    expect(dahua.parse(Buffer.from(JSON.stringify(doc)), 'application/json', '/lpr/x')).toMatchObject({ plate: null, confidence: 0 });
  });

  it('takes anything to the KeepAlive path as a heartbeat', () => {
    expect(dahua.parse(Buffer.from(''), undefined, '/NotificationInfo/KeepAlive')).toEqual({ kind: 'heartbeat' });
    expect(dahua.parse(Buffer.from('{"KeepAlive":1}'), 'application/json', '/lpr/cam')).toEqual({ kind: 'heartbeat' });
  });

  it('answers {"Result":true}', () => {
    expect(JSON.parse(dahua.reply({ kind: 'read', plate: 'x', confidence: 1 }, { decision: 'denied', reason: 'visitor' }).body)).toEqual({ Result: true });
  });

  it.each([
    ['{', 'body is not JSON'],
    ['[1]', 'expected a JSON object, got [1]'],
    ['{"Picture":{}}', 'expected Picture.Plate in the body'],
    ['{"Picture":{"Plate":{"PlateNumber":12345}}}', 'Picture.Plate.PlateNumber: expected a string, got 12345'],
    ['{"Picture":{"Plate":{"PlateNumber":"粤B1","Confidence":101}}}', 'Picture.Plate.Confidence: expected a confidence 0-100, got 101'],
  ])('refuses %s', (body, reason) => {
    expect(() => dahua.parse(Buffer.from(body), 'application/json', '/NotificationInfo/TollgateInfo')).toThrow(reason);
  });
});

describe('vzenith', () => {
  it('reads the AlarmInfoPlate sample', () => {
    expect(vzenith.parse(fixture('vzenith-alarminfoplate.json'), 'application/json', '/lpr/cam')).toEqual({
      kind: 'read',
      plate: '粤B12345',
      confidence: 95,
      plateColor: 'blue',
      cameraTime: '2026-11-22T02:00:00.120Z',
      echo: { plateid: 12345, channel: 0 },
    });
  });

  it('reads a GBK-encoded body from older firmware', () => {
    const text = fixture('vzenith-alarminfoplate.json').toString();
    const gbk = Buffer.from(new TextEncoder().encode(text)); // start from UTF-8, then re-encode by hand
    const encoded = Buffer.concat([...text].map((ch) => (ch === '粤' ? Buffer.from([0xd4, 0xc1]) : Buffer.from(ch, 'utf8'))));
    expect(gbk.length).toBeGreaterThan(encoded.length);
    expect(vzenith.parse(encoded, 'application/json', '/')).toMatchObject({ plate: '粤B12345' });
  });

  it('answers info "ok" only when the vehicle is granted, echoing plateid and channel', () => {
    const push = vzenith.parse(fixture('vzenith-alarminfoplate.json'), 'application/json', '/');
    expect(JSON.parse(vzenith.reply(push, { decision: 'granted', reason: 'resident' }).body)).toEqual({
      Response_AlarmInfoPlate: { info: 'ok', plateid: 12345, channelNum: 0 },
    });
    for (const decision of ['denied', 'pending'] as const) {
      expect(JSON.parse(vzenith.reply(push, { decision, reason: 'x' }).body).Response_AlarmInfoPlate.info).toBe('no');
    }
  });

  it('reads heartbeats', () => {
    expect(vzenith.parse(Buffer.from('{"heartbeat":{"countid":3,"timeout":0}}'), 'application/json', '/')).toEqual({ kind: 'heartbeat' });
  });

  it.each([
    ['{"AlarmInfoPlate":{}}', 'expected AlarmInfoPlate.result.PlateResult'],
    ['{"nothing":1}', 'expected AlarmInfoPlate or heartbeat in the body'],
    ['{"AlarmInfoPlate":{"result":{"PlateResult":{"license":["x"]}}}}', 'AlarmInfoPlate.result.PlateResult.license: expected a string, got ["x"]'],
    ['null', 'expected a JSON object, got null'],
  ])('refuses %s', (body, reason) => {
    expect(() => vzenith.parse(Buffer.from(body), 'application/json', '/')).toThrow(reason);
  });
});

describe('generic', () => {
  it('reads the documented body and heartbeats', () => {
    expect(
      generic.parse(Buffer.from('{"plate":"粤B12345","confidence":91,"time":"2026-11-22T10:00:00+08:00","color":"blue"}'), 'application/json', '/'),
    ).toEqual({
      kind: 'read',
      plate: '粤B12345',
      confidence: 91,
      cameraTime: '2026-11-22T10:00:00+08:00',
      plateColor: 'blue',
    });
    expect(generic.parse(Buffer.from('{"plate":null}'), undefined, '/')).toEqual({ kind: 'read', plate: null, confidence: 0 });
    expect(generic.parse(Buffer.from('{"heartbeat":true}'), undefined, '/')).toEqual({ kind: 'heartbeat' });
  });

  it.each([
    ['{}', 'plate: required'],
    ['{"plate":1}', 'plate: expected a string or null, got 1'],
    ['{"plate":"a","confidence":"x"}', 'confidence: expected a confidence 0-100, got "x"'],
    ['{"plate":"a","time":"yesterday"}', 'time: expected an ISO 8601 time, got "yesterday"'],
    ['{"plate":"a","plat":"b"}', 'unknown key "plat"'],
    ['{"heartbeat":"yes"}', 'heartbeat: expected true, got "yes"'],
    ['', 'empty body'],
  ])('refuses %s', (body, reason) => {
    expect(() => generic.parse(Buffer.from(body), 'application/json', '/')).toThrow(reason);
  });
});

describe('the multipart reader', () => {
  it('keeps binary parts byte for byte, even when they contain CRLF and dashes', () => {
    const { body, contentType } = multipart(Buffer.from('<x/>'));
    const parts = parseMultipart(body, contentType);
    expect(parts.map((p) => [p.name, p.contentType, p.data.length])).toEqual([
      ['anpr.xml', 'application/xml', 4],
      ['licensePlatePicture.jpg', 'image/jpeg', 16],
      ['vehiclePicture.jpg', 'image/jpeg', 16],
    ]);
    expect([...parts[1]!.data.subarray(10, 14)]).toEqual([0x0d, 0x0a, 0x2d, 0x2d]);
  });
});
