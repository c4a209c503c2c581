/**
 * The demo's cameras: pushes in the vendors' own formats, sent to the demo gateway over HTTP as
 * real cameras would send them (a resident, a visitor who stays and pays, an unreadable plate).
 */
import { request } from 'node:http';
import { describeFrame, readFrames } from '../../drivers/screen/frames.js';

export interface DemoPush {
  at: number;
  camera: string;
  note: string;
  contentType: string;
  body: string;
}

const hikvision = (plate: string, confidence: number) => `<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<ipAddress>127.0.0.1</ipAddress><channelID>1</channelID><dateTime>${new Date().toISOString()}</dateTime>
<eventType>ANPR</eventType><eventState>active</eventState>
<ANPR><licensePlate>${plate}</licensePlate><confidenceLevel>${confidence}</confidenceLevel><plateColor>blue</plateColor></ANPR>
</EventNotificationAlert>`;

const vzenith = (plate: string, confidence: number) =>
  JSON.stringify({
    AlarmInfoPlate: { channel: 0, result: { PlateResult: { license: plate, confidence, colorType: 1, plateid: Math.floor(Math.random() * 1e6) } } },
  });

/** One minute of traffic at the north gate, replayed every minute (a car park with 2 spaces for visitors). */
export const DEMO_TRAFFIC: DemoPush[] = [
  { at: 4500, camera: 'cam-north-in', note: 'a resident drives up to the north gate', contentType: 'application/xml', body: hikvision('粤B12345', 97) },
  { at: 7000, camera: 'cam-north-in', note: 'a monthly tenant (月租车) arrives', contentType: 'application/xml', body: hikvision('粤B22222', 96) },
  {
    at: 9000,
    camera: 'cam-north-in',
    note: 'a visitor arrives (this camera writes plates with full-width letters and a dot): one of two visitor spaces',
    contentType: 'application/xml',
    body: hikvision('粤Ａ·77777', 92),
  },
  {
    at: 11000,
    camera: 'cam-north-in',
    note: 'a car on the blocked list (黑名单) tries to enter',
    contentType: 'application/xml',
    body: hikvision('粤B66666', 95),
  },
  {
    at: 13000,
    camera: 'cam-north-in',
    note: 'flat 5-2-301 comes home: its first car, on its own space',
    contentType: 'application/xml',
    body: hikvision('粤C10001', 96),
  },
  {
    at: 15000,
    camera: 'cam-north-in',
    note: "5-2-301's second car: one space per flat, so it parks as a visitor (一位多车) and takes the last visitor space",
    contentType: 'application/xml',
    body: hikvision('粤C10002', 96),
  },
  { at: 18000, camera: 'cam-north-in', note: 'another visitor arrives: the car park is full', contentType: 'application/xml', body: hikvision('粤A88888', 94) },
  { at: 30000, camera: 'cam-north-in', note: 'a muddy plate the camera cannot read', contentType: 'application/xml', body: hikvision('unknown', 0) },
  { at: 45000, camera: 'cam-north-out', note: "5-2-301's second car leaves and pays", contentType: 'application/json', body: vzenith('粤C10002', 95) },
  { at: 52000, camera: 'cam-north-out', note: 'the visitor leaves', contentType: 'application/json', body: vzenith('粤A77777', 95) },
];

/** The exit camera's heartbeat (every few seconds, like a Vzenith camera's): its replies carry the lane screen's news. */
const HEARTBEAT = { camera: 'cam-north-out', contentType: 'application/json', body: '{"heartbeat":{"countid":1,"timeout":0}}' };
const HEARTBEAT_MS = 2000;

/**
 * Plays the traffic; `onScreen` is told what the north gate's screen shows and says whenever a
 * reply to the screen's camera carries it.
 */
export function playDemoTraffic(port: number, onNote: (note: string) => void, period = 60_000, onScreen: (text: string) => void = () => undefined): () => void {
  const timers: NodeJS.Timeout[] = [];
  const post = (push: Pick<DemoPush, 'camera' | 'contentType' | 'body'>) => {
    const req = request({ host: '127.0.0.1', port, path: `/lpr/${push.camera}`, method: 'POST', headers: { 'content-type': push.contentType } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        for (const text of screenTexts(Buffer.concat(chunks).toString('utf8'))) onScreen(text);
      });
    });
    req.on('error', () => undefined); // the demo is stopping
    req.end(push.body);
  };
  const schedule = (offset: number) => {
    for (const push of DEMO_TRAFFIC) {
      timers.push(
        setTimeout(() => {
          onNote(push.note);
          post(push);
        }, offset + push.at),
      );
    }
    timers.push(setTimeout(() => schedule(0), offset + period));
  };
  schedule(0);
  const beat = setInterval(() => post(HEARTBEAT), HEARTBEAT_MS);
  return () => {
    timers.forEach(clearTimeout);
    clearInterval(beat);
  };
}

/** What a Vzenith reply's `serialData` puts on the screen, as one line of text each (lines | voice). */
function screenTexts(body: string): string[] {
  let serial: Array<{ data: string }> = [];
  try {
    serial = JSON.parse(body)?.Response_AlarmInfoPlate?.serialData ?? [];
  } catch {
    return [];
  }
  return serial.flatMap((s) => readFrames(Buffer.from(s.data, 'base64')).frames.flatMap((f) => describeFrame(f) ?? []));
}
