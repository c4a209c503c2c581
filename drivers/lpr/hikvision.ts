/**
 * Hikvision ISAPI `EventNotificationAlert` pushes (eventType ANPR), as bare XML or as
 * multipart/form-data with the XML part beside JPEG pictures. The namespace differs by firmware
 * (hikvision.com/ver20, isapi.org/ver20, std-cgi.com/ver10) and NVRs forward it with prefixes,
 * so elements are matched by local name. The camera does not resend: it is answered 200 at once.
 */
import { createRequire } from 'node:module';
import { parseMultipart } from './multipart.js';
import { decodeText, isRecord } from './text.js';
import type { CameraProtocol, CameraPush, CameraReply } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

type Fxp = typeof import('fast-xml-parser');
let fxp: { parser: InstanceType<Fxp['XMLParser']>; validator: Fxp['XMLValidator'] } | undefined;

/** fast-xml-parser is loaded the first time a Hikvision push arrives: sites without one never pay for it. */
function xml() {
  if (!fxp) {
    const { XMLParser, XMLValidator } = createRequire(import.meta.url)('fast-xml-parser') as Fxp;
    fxp = {
      parser: new XMLParser({
        removeNSPrefix: true,
        ignoreAttributes: true,
        parseTagValue: false,
        processEntities: false,
        htmlEntities: false,
        trimValues: true,
      }),
      validator: XMLValidator,
    };
  }
  return fxp;
}

/** `vehicleListName` as firmware generations spell it. */
const CAMERA_LISTS: Record<string, 'allow' | 'block' | 'other'> = {
  whitelist: 'allow',
  allowlist: 'allow',
  blacklist: 'block',
  blocklist: 'block',
  otherlist: 'other',
};

export const hikvision: CameraProtocol = {
  vendor: 'hikvision',
  parse(body, contentType) {
    const xml = /multipart\//i.test(contentType ?? '') ? xmlPart(body, contentType ?? '') : decodeText(body, contentType);
    return readAlert(xml);
  },
  reply(): CameraReply {
    return json({ ok: true });
  },
};

function xmlPart(body: Buffer, contentType: string): string {
  const parts = parseMultipart(body, contentType);
  const part =
    parts.find((p) => /xml/i.test(p.contentType ?? '')) ??
    parts.find((p) => /\.xml$/i.test(p.filename ?? p.name ?? '')) ??
    parts.find((p) => /^\s*(<\?xml|<([\w-]+:)?EventNotificationAlert)/.test(p.data.subarray(0, 200).toString('latin1')));
  if (!part) throw new PushError(`multipart body has no XML part (parts: ${parts.map((p) => p.name ?? p.filename ?? '?').join(', ')})`);
  return decodeText(part.data);
}

/**
 * An ISAPI `EventNotificationAlert` XML document as a plain object (elements by local name, text
 * as strings), or PushError with what is wrong. Cameras and access terminals send the same form.
 */
export function parseAlertXml(body: string): Record<string, unknown> {
  if (body.trim() === '') throw new PushError('empty body');
  // Devices never send document type declarations; refusing them keeps entity expansion out.
  if (/<!(DOCTYPE|ENTITY)/i.test(body)) throw new PushError('XML with a DOCTYPE or ENTITY declaration is not accepted');
  const valid = xml().validator.validate(body);
  if (valid !== true) throw new PushError(`body is not well-formed XML: line ${valid.err.line}: ${validatorMessage(valid.err.msg)}`);
  let doc: unknown;
  try {
    doc = xml().parser.parse(body);
  } catch (err) {
    throw new PushError(`body could not be read as XML: ${firstLine(err)}`);
  }
  const alert = isRecord(doc) ? doc['EventNotificationAlert'] : undefined;
  if (!isRecord(alert)) throw new PushError('XML is not an EventNotificationAlert');
  return alert;
}

export function readAlert(body: string): CameraPush {
  const alert = parseAlertXml(body);
  const eventType = text(alert['eventType']) ?? '';
  if (/^heart ?beat$/i.test(eventType)) return { kind: 'heartbeat' };
  const anpr = alert['ANPR'];
  if (!isRecord(anpr)) {
    if (/^anpr$/i.test(eventType)) throw new PushError('ANPR alert without an ANPR element');
    return { kind: 'ignored', what: `eventType ${show(eventType)}` };
  }
  const plate = text(anpr['licensePlate']) ?? text(anpr['originalLicensePlate']);
  if (plate === undefined) throw new PushError('ANPR element without a licensePlate');
  const confidenceText = text(anpr['confidenceLevel']);
  const push: CameraPush = {
    kind: 'read',
    plate,
    // a missing confidence on an unread plate is 0; on a read one the camera vouches for it
    confidence: confidenceText === undefined ? (/^unknown$/i.test(plate) ? 0 : 100) : confidenceOf(confidenceText, 'ANPR.confidenceLevel'),
  };
  const time = text(alert['dateTime']);
  if (time) push.cameraTime = time;
  const color = text(anpr['plateColor']);
  if (color) push.plateColor = color;
  if (text(alert['isDataRetransmission']) === 'true') push.retransmission = true;
  const list = CAMERA_LISTS[(text(anpr['vehicleListName']) ?? '').toLowerCase()];
  if (list) push.cameraList = list;
  return push;
}

/** The text of a leaf element; an element repeated by a forwarding NVR counts once. */
function text(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The validator lists unclosed elements as a JSON array; name them plainly. */
function validatorMessage(msg: string): string {
  const unclosed = /^Invalid '(\[[^']*\])' found/.exec(msg);
  if (unclosed?.[1]) {
    try {
      return `unclosed elements ${(JSON.parse(unclosed[1]) as string[]).join(', ')}`;
    } catch {
      // fall through to the validator's own words
    }
  }
  return msg.replace(/\s+/g, ' ').slice(0, 200);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'parse error';
}
