/**
 * Face and card terminals that decide by themselves (test/fixtures/acs/, origins in the README
 * there), pushed the way the terminals push: raw HTTP/1.0 and chunked, multipart with the face
 * picture, Dahua's text form deflate-compressed. Each decision is recorded as door.unlocked or
 * access.denied with the person and card numbers; pictures are not kept; bad bodies are 4xx.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import { rawPost } from './peers/raw-http.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/acs/${name}`, import.meta.url));

let h: Harness;
afterEach(async () => void (await h?.gateway.stop()));

async function start() {
  h = await startGateway(
    {
      devices: [
        { id: 'hik-t1', type: 'access-terminal', vendor: 'hikvision', allowFrom: ['127.0.0.1'] },
        { id: 'dahua-t1', type: 'access-terminal', vendor: 'dahua', allowFrom: ['127.0.0.0/8'] },
        { id: 'far-t1', type: 'access-terminal', vendor: 'hikvision', allowFrom: ['192.168.50.20'] },
      ],
    },
    undefined,
    { listen: '127.0.0.1:0', journal: true },
  );
  return h.gateway.address!.port;
}

const access = () => h.events.filter((e) => e.type === 'door.unlocked' || e.type === 'access.denied').map((e) => [e.type, e.device, e.data]);

function multipart(boundary: string, parts: Array<{ name: string; type: string; filename?: string; data: Buffer }>): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${p.type}\r\nContent-Length: ${p.data.length}\r\n\r\n`),
      p.data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

describe('Hikvision terminals (ISAPI AccessControllerEvent)', () => {
  it('a fingerprint match is a door.unlocked by the terminal, with its person and card; a door-locked report is only seen', async () => {
    const port = await start();
    const a = await rawPost(port, '/acs/hik-t1', fixture('hikvision-acs-fingerprint-pass.json'), 'application/json', 'http1.0');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ statusCode: 1, statusString: 'OK' });
    const b = await rawPost(port, '/acs/hik-t1', fixture('hikvision-acs-door-locked.json'), 'application/json; charset="UTF-8"', 'chunked');
    expect(b.status).toBe(200);
    expect(access()).toEqual([
      [
        'door.unlocked',
        'hik-t1',
        { by: 'terminal', method: 'fingerprint', terminalCode: '5/38', person: '001', card: '11', terminalTime: '2025-10-22T13:43:48+08:00' },
      ],
    ]);
    expect(h.gateway.devices.get('hik-t1')!.snapshot()).toMatchObject({ state: 'online', pushes: { read: 1, ignored: 1 } });
  });

  it('a face match sent as multipart (event_log and the Picture) is recorded and the picture dropped', async () => {
    const port = await start();
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40_000, 7), Buffer.from([0xff, 0xd9])]);
    const body = multipart('MIME_boundary', [
      { name: 'event_log', type: 'application/json', data: fixture('hikvision-acs-face-pass.event_log.json') },
      { name: 'Picture', type: 'image/jpeg', filename: 'Picture.jpg', data: jpeg },
    ]);
    const a = await rawPost(port, '/acs/hik-t1', body, 'multipart/form-data; boundary=MIME_boundary', 'chunked');
    expect(a.status).toBe(200);
    expect(access()).toEqual([
      ['door.unlocked', 'hik-t1', { by: 'terminal', method: 'face', terminalCode: '5/75', person: '2', terminalTime: '2022-12-06T23:20:10+05:00' }],
    ]);
    // No face image is kept on the gateway: nothing in the data dir holds the JPEG's bytes.
    for (const f of readdirSync(h.config.gateway.dataDir, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) expect(readFileSync(`${f.parentPath}/${f.name}`).includes(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe(false);
    }
  });

  it('the same face match from a terminal set to XML', async () => {
    const port = await start();
    const a = await rawPost(port, '/acs/hik-t1', fixture('hikvision-acs-face-pass.xml'), 'application/xml; charset="UTF-8"', 'http1.0');
    expect(a.status).toBe(200);
    expect(access()).toEqual([
      ['door.unlocked', 'hik-t1', { by: 'terminal', method: 'face', terminalCode: '5/75', person: '2', terminalTime: '2022-12-06T23:20:10+05:00' }],
    ]);
    const bad = await rawPost(port, '/acs/hik-t1', Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><EventNotificationAlert/>'), 'application/xml');
    expect([bad.status, JSON.parse(bad.body).message]).toEqual([400, 'XML with a DOCTYPE or ENTITY declaration is not accepted']);
  });

  it('a face that did not match is an access.denied, refused by the terminal', async () => {
    const port = await start();
    const failed = JSON.parse(fixture('hikvision-acs-face-pass.event_log.json').toString()) as { AccessControllerEvent: Record<string, unknown> };
    failed.AccessControllerEvent['subEventType'] = 76;
    delete failed.AccessControllerEvent['employeeNoString'];
    expect((await rawPost(port, '/acs/hik-t1', Buffer.from(JSON.stringify(failed)), 'application/json')).status).toBe(200);
    expect(access()).toEqual([
      [
        'access.denied',
        'hik-t1',
        { by: 'terminal', reason: 'refused-by-terminal', method: 'face', terminalCode: '5/76', terminalTime: '2022-12-06T23:20:10+05:00' },
      ],
    ]);
  });
});

describe('Dahua terminals (AccessControl event upload)', () => {
  it('the VTO card event (JSON Events list) is a door.unlocked; a DoorCard report is only seen', async () => {
    const port = await start();
    const a = await rawPost(port, '/acs/dahua-t1', fixture('dahua-vto-accesscontrol-card.json'), 'application/json', 'http1.0');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ Result: true });
    expect((await rawPost(port, '/acs/dahua-t1', fixture('dahua-vto-doorcard.json'), 'application/json')).status).toBe(200);
    expect(access()).toEqual([['door.unlocked', 'dahua-t1', { by: 'terminal', method: 'card', terminalCode: 'ErrorCode 0', person: '01' }]]);
  });

  it('the text form, multi-line and deflate-compressed, refused: an access.denied with the card', async () => {
    const port = await start();
    const body = deflateSync(fixture('dahua-accesscontrol-refused.txt'));
    const a = await rawPost(port, '/acs/dahua-t1', body, 'text/plain', 'length', ['Content-Encoding: deflate']);
    expect(a.status).toBe(200);
    expect(access()).toEqual([
      [
        'access.denied',
        'dahua-t1',
        { by: 'terminal', reason: 'refused-by-terminal', method: 'card', terminalCode: 'ErrorCode 16', card: '7A087D0F', terminalTime: '1585587525' },
      ],
    ]);
  });

  it('the text form in a multipart `info` part beside a picture', async () => {
    const port = await start();
    const body = multipart('myboundary', [
      { name: 'info', type: 'text/plain', data: fixture('dahua-accesscontrol-refused.txt') },
      { name: 'image', type: 'image/jpeg', filename: 'snap.jpg', data: Buffer.alloc(5000, 1) },
    ]);
    expect((await rawPost(port, '/acs/dahua-t1', body, 'multipart/form-data; boundary=myboundary')).status).toBe(200);
    expect(access()).toHaveLength(1);
  });
});

describe('bad pushes stay 4xx and record nothing', () => {
  it.each([
    ['hik-t1', Buffer.from('{"eventType":"AccessControllerEvent"'), 'application/json', 400, /not JSON/],
    ['hik-t1', Buffer.from('{"eventType":"AccessControllerEvent"}'), 'application/json', 400, /without its AccessControllerEvent/],
    ['hik-t1', Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`), 'application/json', 400, /deep|nest/i],
    ['dahua-t1', Buffer.from('hello'), 'text/plain', 400, /neither JSON nor/],
    ['dahua-t1', Buffer.from('x'), 'text/plain', 400, /decompress/],
    ['nope', Buffer.from('{}'), 'application/json', 404, /no access terminal nope/],
    ['far-t1', fixture('hikvision-acs-fingerprint-pass.json'), 'application/json', 403, /does not accept pushes from/],
  ] as const)('%s: %s', async (id, body, type, status, message) => {
    const port = await start();
    const headers = id === 'dahua-t1' && body.length === 1 ? ['Content-Encoding: deflate'] : [];
    const a = await rawPost(port, `/acs/${id}`, body, type, 'length', headers);
    expect(a.status).toBe(status);
    expect(JSON.parse(a.body).message).toMatch(message);
    expect(access()).toEqual([]);
  });

  it('a push over the size limit is 413', async () => {
    const port = await start();
    const a = await rawPost(port, '/acs/hik-t1', Buffer.alloc(5 * 1024 * 1024, 0x20), 'application/json');
    expect(a.status).toBe(413);
  });
});

describe("a terminal's cardFormat", () => {
  it('events carry the card in the list’s 10-digit form, with what the terminal said beside it', async () => {
    h = await startGateway(
      { devices: [{ id: 'hik-hex', type: 'access-terminal', vendor: 'hikvision', allowFrom: ['127.0.0.1'], cardFormat: 'hex' }] },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    // the field capture, its card number as a hex terminal prints one (the DOMAIN.md example)
    const body = fixture('hikvision-acs-fingerprint-pass.json').toString().replace('"cardNo":\t"11"', '"cardNo":\t"87FA368D"');
    expect(body).toContain('87FA368D');
    const a = await rawPost(h.gateway.address!.port, '/acs/hik-hex', Buffer.from(body), 'application/json', 'http1.0');
    expect(a.status).toBe(200);
    expect(access()).toEqual([['door.unlocked', 'hik-hex', expect.objectContaining({ by: 'terminal', card: '2369190535', cardAsRead: '87FA368D' })]]);
  });
});
