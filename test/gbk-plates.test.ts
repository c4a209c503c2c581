/**
 * Older Vzenith/Alphadigi firmware pushes its JSON in GBK without saying so. Some GBK plate
 * characters are also valid UTF-8 (鲁 = C2 B3 is "³"), so the bytes parsing as UTF-8 does not
 * decide the charset; the plate does (drivers/lpr/text.ts). One push per province character and
 * special prefix/suffix, each in GBK over HTTP/1.0 like the camera's, each for a resident on the list.
 */
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVINCES } from '../core/plate-shape.js';
import { decodeText } from '../drivers/lpr/text.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import { rawPost } from './peers/raw-http.js';

const OPEN = 10;
const plates = [...[...PROVINCES].map((p) => `${p}B12345`), '鲁B1234学', '豫A1234学', '使014578', '鲁BD12345'];

const push = (plate: string, plateid: number) =>
  JSON.stringify({
    AlarmInfoPlate: {
      channel: 0,
      deviceName: 'IVS',
      ipaddr: '192.168.1.100',
      result: { PlateResult: { license: plate, confidence: 96, colorType: 1, plateid, timeStamp: { Timeval: { sec: 1764000000, usec: 0 } } } },
      serialno: 'eff50e18-e3d3862b',
    },
  });

describe('GBK plates from older firmware', () => {
  it('the four characters whose GBK bytes are also valid UTF-8 are the ones the issue names', () => {
    const ambiguous = [...`${PROVINCES}使领学警挂港澳`].filter((ch) => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(iconv.encode(ch, 'gbk'));
        return true;
      } catch {
        return false;
      }
    });
    expect(ambiguous.sort()).toEqual(['使', '学', '豫', '鲁'].sort());
  });

  it.each(['Caméra 25°C', '{"deviceName":"Café","license":"粤B12345"}', '{"license":"京A12345","note":"³"}'])('real UTF-8 stays UTF-8: %s', (text) => {
    expect(decodeText(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('a charset named in the Content-Type is believed', () => {
    expect(decodeText(iconv.encode('鲁B12345', 'gbk'), 'application/json; charset=GBK')).toBe('鲁B12345');
  });

  describe('over HTTP/1.0 to a running gateway', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startGateway(
        {
          devices: [
            { id: 'gate', type: 'barrier', open: { io: 'sim', pin: OPEN } },
            { id: 'cam-vz', type: 'lpr-camera', vendor: 'vzenith', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'], repeatWindowSec: 0 },
          ],
          access: { visitors: 'deny', plates: plates.map((plate) => ({ plate })) },
        },
        undefined,
        { listen: '127.0.0.1:0', journal: true },
      );
    });
    afterAll(async () => void (await h?.gateway.stop()));

    it.each(plates.map((p, i) => [p, i] as const))('%s in GBK is read as itself and the resident enters', async (plate, i) => {
      const body = iconv.encode(push(plate, i + 1), 'gbk');
      const answer = await rawPost(h.gateway.address!.port, '/lpr/cam-vz', body, 'application/json', 'http1.0');
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).Response_AlarmInfoPlate.info).toBe('ok');
      const last = h.events.filter((e) => e.type === 'vehicle.entry').at(-1)?.data as Record<string, unknown>;
      expect(last).toMatchObject({ plate, decision: 'granted', reason: 'resident' });
    });
  });
});
