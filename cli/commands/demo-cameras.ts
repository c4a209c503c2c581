/**
 * The demo's cameras: pushes in the vendors' own formats, sent to the demo gateway over HTTP as
 * real cameras would send them (a resident, a visitor who stays and pays, an unreadable plate).
 */
import { request } from 'node:http';

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

/** One minute of traffic at the north gate, replayed every minute. */
export const DEMO_TRAFFIC: DemoPush[] = [
  { at: 4500, camera: 'cam-north-in', note: 'a resident drives up to the north gate', contentType: 'application/xml', body: hikvision('粤B12345', 97) },
  {
    at: 9000,
    camera: 'cam-north-in',
    note: 'a visitor arrives (this camera writes plates with full-width letters and a dot)',
    contentType: 'application/xml',
    body: hikvision('粤Ａ·77777', 92),
  },
  { at: 30000, camera: 'cam-north-in', note: 'a muddy plate the camera cannot read', contentType: 'application/xml', body: hikvision('unknown', 0) },
  { at: 52000, camera: 'cam-north-out', note: 'the visitor leaves', contentType: 'application/json', body: vzenith('粤A77777', 95) },
];

export function playDemoTraffic(port: number, onNote: (note: string) => void, period = 60_000): () => void {
  const timers: NodeJS.Timeout[] = [];
  const schedule = (offset: number) => {
    for (const push of DEMO_TRAFFIC) {
      timers.push(
        setTimeout(() => {
          onNote(push.note);
          const req = request({ host: '127.0.0.1', port, path: `/lpr/${push.camera}`, method: 'POST', headers: { 'content-type': push.contentType } });
          req.on('response', (res) => res.resume());
          req.on('error', () => undefined); // the demo is stopping
          req.end(push.body);
        }, offset + push.at),
      );
    }
    timers.push(setTimeout(() => schedule(0), offset + period));
  };
  schedule(0);
  return () => timers.forEach(clearTimeout);
}
