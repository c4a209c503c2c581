/**
 * 10,000 mutated bodies per camera vendor and per access-terminal vendor against the real gateway
 * process: every answer is a 2xx or 4xx, the process stays up, and a good push still opens the
 * gate afterwards.
 */
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { runGatewayProcess, seededRandom, siteFile } from './helpers.js';
import { field, fixture, multipart } from './lpr-fixtures.js';
const PER_VENDOR = 10_000;

const NASTY = [
  '\u0000',
  '\uffff',
  '"',
  '<',
  '>',
  '&',
  ']]>',
  '<!--',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '1e999',
  '-0',
  'null',
  'true',
  '\\u0000',
  '粤',
  '\ud800',
  '<![CDATA[',
  '&amp;',
  '&#0;',
  '%',
  '\r\n',
  '--MIME_boundary',
  'NaN',
];

const pickOf = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function mutate(seed: Buffer, rnd: () => number): Buffer {
  let body = Buffer.from(seed);
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rnd() * (body.length + 1));
    switch (Math.floor(rnd() * 11)) {
      case 0: // flip a byte
        if (body.length) body[Math.min(at, body.length - 1)] = Math.floor(rnd() * 256);
        break;
      case 1: // truncate
        body = body.subarray(0, at);
        break;
      case 2: // insert something nasty
        body = Buffer.concat([body.subarray(0, at), Buffer.from(NASTY[Math.floor(rnd() * NASTY.length)]!), body.subarray(at)]);
        break;
      case 3: // delete a run
        body = Buffer.concat([body.subarray(0, at), body.subarray(at + Math.floor(rnd() * 40))]);
        break;
      case 4: // duplicate a run
        body = Buffer.concat([body.subarray(0, at), body.subarray(at, at + Math.floor(rnd() * 200)), body.subarray(at)]);
        break;
      case 5: // random bytes
        body = Buffer.concat([
          body.subarray(0, at),
          Buffer.from(Array.from({ length: Math.floor(rnd() * 32) }, () => Math.floor(rnd() * 256))),
          body.subarray(at),
        ]);
        break;
      case 6: // deep nesting, unbalanced
        body = Buffer.concat([body.subarray(0, at), Buffer.from('['.repeat(Math.floor(rnd() * 5000))), body.subarray(at)]);
        break;
      case 7: {
        // deep nesting that is well-formed: the body itself wrapped tens of thousands of levels deep
        const n = Math.floor(rnd() * 60_000);
        const [open, close] = rnd() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
        body = Buffer.concat([Buffer.from(open.repeat(n)), body, Buffer.from(close.repeat(n))]);
        break;
      }
      case 8: // prototype keys where an object begins
        body = Buffer.from(body.toString('utf8').replace('{', `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},`));
        break;
      case 9: // huge and odd numbers
        body = Buffer.from(
          body.toString('utf8').replace(/\d+/, pickOf(rnd, ['1e999', '-1e309', '123456789012345678901234567890', '0x1F', '1_000', '.5', '-'])),
        );
        break;
      default: // swap a number for something else
        body = Buffer.from(body.toString('utf8').replace(/\d+/, NASTY[Math.floor(rnd() * NASTY.length)]!));
    }
  }
  return body;
}

interface Seed {
  path: string;
  body: Buffer;
  contentType: string;
  /** Content-Encoding: the body is mutated first, then compressed, as a terminal would send it */
  encoding?: 'deflate';
}

const acs = (name: string) => readFileSync(new URL(`./fixtures/acs/${name}`, import.meta.url));

function seeds(): Record<string, Seed[]> {
  const hik = fixture('hikvision-anpr.xml');
  const mp = multipart(hik, { jpegType: 'application/octet-stream' });
  const generic = Buffer.from('{"plate":"粤B12345","confidence":95,"time":"2026-11-22T10:00:00+08:00","color":"blue"}');
  return {
    hikvision: [
      { path: '/lpr/cam-hik', body: hik, contentType: 'application/xml' },
      { path: '/lpr/cam-hik', body: fixture('hikvision-anpr-prefixed.xml'), contentType: 'text/xml' },
      { path: '/lpr/cam-hik', body: mp.body, contentType: mp.contentType },
      { path: '/lpr/cam-hik', body: field('hikvision-anpr-cn-colour-prefix.xml'), contentType: 'application/xml' },
      {
        path: '/lpr/cam-hik',
        body: field('hikvision-anpr-isapi-multipart.bin'),
        contentType: 'multipart/form-data; boundary=-------------------------7e13971310878',
      },
    ],
    dahua: [
      { path: '/NotificationInfo/TollgateInfo', body: fixture('dahua-itsapi-tollgate.json'), contentType: 'application/json' },
      { path: '/lpr/cam-dahua', body: fixture('dahua-itsapi-tollgate.json'), contentType: 'text/plain' },
      { path: '/NotificationInfo/DeviceInfo', body: field('dahua-deviceinfo.json'), contentType: 'application/json' },
    ],
    vzenith: [
      { path: '/lpr/cam-vz', body: fixture('vzenith-alarminfoplate.json'), contentType: 'application/json' },
      { path: '/lpr/cam-vz', body: Buffer.from('{"heartbeat":{"countid":1}}'), contentType: 'application/json' },
      { path: '/lpr/cam-vz', body: field('vzenith-offline-record-vendor-doc.json'), contentType: 'application/json' },
      {
        path: '/lpr/cam-vz',
        body: field('vzenith-heartbeat-multipart.bin'),
        contentType: 'multipart/form-data; boundary=------------------------caa771fe4a61f3d9',
      },
    ],
    generic: [{ path: '/lpr/cam-gen', body: generic, contentType: 'application/json' }],
    'hikvision-terminal': [
      { path: '/acs/face-hik', body: acs('hikvision-acs-fingerprint-pass.json'), contentType: 'application/json' },
      { path: '/acs/face-hik', body: acs('hikvision-acs-face-pass.xml'), contentType: 'application/xml' },
      { path: '/acs/face-hik', ...multipart(acs('hikvision-acs-face-pass.event_log.json'), { xmlName: 'event_log', xmlType: 'application/json' }) },
    ],
    'dahua-terminal': [
      { path: '/acs/vto-dahua', body: acs('dahua-vto-accesscontrol-card.json'), contentType: 'application/json' },
      { path: '/acs/vto-dahua', body: acs('dahua-accesscontrol-refused.txt'), contentType: 'text/plain', encoding: 'deflate' },
      { path: '/acs/vto-dahua', ...multipart(acs('dahua-accesscontrol-refused.txt'), { xmlName: 'info', xmlType: 'text/plain' }) },
    ],
  };
}

function post(port: number, agent: Agent, path: string, body: Buffer, contentType: string, encoding?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': contentType, ...(encoding ? { 'content-encoding': encoding } : {}) };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('camera and access-terminal pushes, fuzzed', () => {
  it(`${PER_VENDOR} mutated bodies per camera and terminal vendor: only 2xx/4xx answers, the process lives, the gate still opens`, async () => {
    const { file, port } = await siteFile(
      (p) => `site: { id: fuzz }
gateway: { id: gw-1, dataDir: ./data }
console: { listen: "127.0.0.1:${p}" }
io: [{ id: sim, type: sim }]
devices:
  - { id: gate, type: barrier, open: { io: sim, pin: 1 } }
  - { id: cam-hik, type: lpr-camera, vendor: hikvision, direction: in, lane: gate, allowFrom: [127.0.0.1] }
  - { id: cam-dahua, type: lpr-camera, vendor: dahua, direction: in, lane: gate, allowFrom: [127.0.0.1] }
  - { id: cam-vz, type: lpr-camera, vendor: vzenith, direction: out, lane: gate, allowFrom: [127.0.0.1] }
  - { id: cam-gen, type: lpr-camera, vendor: generic, direction: in, lane: gate, allowFrom: [127.0.0.1] }
  - { id: face-hik, type: access-terminal, vendor: hikvision, allowFrom: [127.0.0.1] }
  - { id: vto-dahua, type: access-terminal, vendor: dahua, allowFrom: [127.0.0.1] }
access: { visitors: record, plates: [{ plate: "粤B12345" }] }
`,
    );
    const gateway = await runGatewayProcess(file, port);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const statuses = new Map<number, number>();
      for (const [vendor, list] of Object.entries(seeds())) {
        const rnd = seededRandom(vendor.length * 7919);
        let next = 0;
        const worker = async () => {
          while (next < PER_VENDOR) {
            const n = next++;
            const seed = list[n % list.length]!;
            const mutated = mutate(seed.body, rnd);
            // a compressed body is mutated before compression most of the time, and after it now and then
            const body = seed.encoding === 'deflate' ? (rnd() < 0.9 ? deflateSync(mutated) : mutate(deflateSync(seed.body), rnd)) : mutated;
            const status = await post(port, agent, seed.path, body, seed.contentType, seed.encoding);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500 || status < 200) throw new Error(`${vendor} body #${n} got ${status}: ${JSON.stringify(body.toString('latin1').slice(0, 300))}`);
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
      }
      expect(gateway.exited()).toBe(false);
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      expect(total).toBe(PER_VENDOR * Object.keys(seeds()).length);
      expect([...statuses.keys()].every((s) => (s >= 200 && s < 300) || (s >= 400 && s < 500))).toBe(true);
      expect(statuses.get(400)).toBeGreaterThan(1000); // the mutations did break bodies
      expect(statuses.get(200)).toBeGreaterThan(1000); // and some still read

      const health = await fetch(`http://127.0.0.1:${port}/api/health`);
      expect(health.status).toBe(200);
      const good = await fetch(`http://127.0.0.1:${port}/lpr/cam-gen`, {
        method: 'POST',
        body: '{"plate":"粤B12345"}',
        headers: { 'content-type': 'application/json' },
      });
      expect(await good.json()).toEqual({ ok: true, decision: 'granted', reason: 'resident' });
      expect(gateway.stderr()).toBe('');
    } finally {
      agent.destroy();
      await gateway.stop();
    }
  }, 180_000);
});
