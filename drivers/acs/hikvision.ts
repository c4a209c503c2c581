/**
 * Hikvision face and card terminals (DS-K1T series and kin): ISAPI event pushes to an HTTP host
 * (httpHosts). The body is the event JSON (`application/json`), or the same event as XML
 * (`EventNotificationAlert`, for hosts set to XML), or multipart with it in a part named
 * `event_log` (or `AccessControllerEvent`) beside the face picture, which is dropped unread: no
 * face images are kept on the gateway.
 *
 * `AccessControllerEvent.majorEventType` 5 is an event; its `subEventType` says what happened
 * (the HCNetSDK MINOR_* codes). The ones below are the access decisions; every other code (door
 * locked/unlocked, tamper, remote operations) is seen and not recorded.
 */
import { parseMultipart } from '../lpr/multipart.js';
import { parseAlertXml } from '../lpr/hikvision.js';
import { decodeText, isRecord, parseJsonBody } from '../lpr/text.js';
import { PushError, json, show } from '../lpr/types.js';
import type { AcsProtocol, AcsPush, AcsRecord } from './types.js';
import { idText } from './types.js';

const MAJOR_EVENT = 5;

/** minor codes of a person let in, and how they were verified */
const GRANTED: Record<number, string> = {
  0x01: 'card',
  0x02: 'card-and-password',
  0x26: 'fingerprint',
  0x28: 'card-and-fingerprint',
  0x2b: 'card-fingerprint-password',
  0x2e: 'fingerprint-and-password',
  0x45: 'person-and-fingerprint',
  0x48: 'person-fingerprint-password',
  0x4b: 'face',
  0x4d: 'person-and-face',
  0x65: 'person-and-password',
  0xb5: 'password',
};

/** minor codes of a person refused */
const DENIED: Record<number, string> = {
  0x03: 'card-and-password',
  0x06: 'card', // no right at this door
  0x07: 'card', // outside its time plan
  0x08: 'card', // expired
  0x09: 'card', // not registered
  0x27: 'fingerprint',
  0x29: 'card-and-fingerprint',
  0x4c: 'face',
  0x4e: 'person-and-face',
  0x50: 'face', // not recognised
};

export const HIKVISION_METHODS = [...Object.values(GRANTED), ...Object.values(DENIED)];

export const hikvisionTerminal: AcsProtocol = {
  vendor: 'hikvision',
  parse(body, contentType) {
    const part = /multipart\//i.test(contentType ?? '') ? eventPart(body, contentType ?? '') : body;
    // Terminals set to XML send the same event as an EventNotificationAlert document.
    if (/xml/i.test(contentType ?? '') || part.subarray(0, 64).toString('latin1').trimStart().startsWith('<')) {
      return readEvent({ EventNotificationAlert: parseAlertXml(decodeText(part)) });
    }
    return readEvent(parseJsonBody(part, PushError));
  },
  reply() {
    return json({ statusCode: 1, statusString: 'OK', subStatusCode: 'ok' });
  },
};

function eventPart(body: Buffer, contentType: string): Buffer {
  const parts = parseMultipart(body, contentType);
  const part =
    parts.find((p) => p.name === 'event_log' || p.name === 'AccessControllerEvent') ??
    parts.find((p) => /json|xml/i.test(p.contentType ?? '')) ??
    parts.find((p) => /^[{<]/.test(p.data.subarray(0, 64).toString('latin1').trimStart()));
  if (!part) throw new PushError(`multipart body has no event JSON (parts: ${parts.map((p) => p.name ?? p.filename ?? '?').join(', ')})`);
  return part.data;
}

function readEvent(doc: unknown): AcsPush {
  // Some firmware wraps the event in EventNotificationAlert, as the XML form does.
  const event = isRecord(doc) && isRecord(doc['EventNotificationAlert']) ? doc['EventNotificationAlert'] : doc;
  if (!isRecord(event)) throw new PushError('body is not a JSON object');
  const eventType = typeof event['eventType'] === 'string' ? event['eventType'] : '';
  if (/^heart ?beat$/i.test(eventType)) return { kind: 'heartbeat' };
  const ace = event['AccessControllerEvent'];
  if (!isRecord(ace)) {
    if (/^AccessControllerEvent$/i.test(eventType)) throw new PushError('AccessControllerEvent push without its AccessControllerEvent object');
    return { kind: 'ignored', what: `eventType ${show(eventType)}` };
  }
  const major = Number(ace['majorEventType']);
  const minor = Number(ace['subEventType']);
  if (!Number.isInteger(major) || !Number.isInteger(minor))
    throw new PushError(`AccessControllerEvent without majorEventType/subEventType numbers (got ${show(ace['majorEventType'])}/${show(ace['subEventType'])})`);
  const terminalCode = `${major}/${minor}`;
  const granted = major === MAJOR_EVENT ? GRANTED[minor] : undefined;
  const denied = major === MAJOR_EVENT ? DENIED[minor] : undefined;
  if (granted === undefined && denied === undefined) return { kind: 'ignored', what: `AccessControllerEvent ${terminalCode}` };
  const record: AcsRecord = { outcome: granted !== undefined ? 'granted' : 'denied', method: (granted ?? denied)!, terminalCode };
  const card = idText(ace['cardNo']);
  const person = idText(ace['employeeNoString']) ?? idText(ace['employeeNo']);
  if (card) record.card = card;
  if (person) record.person = person;
  const time = typeof event['dateTime'] === 'string' ? event['dateTime'] : undefined;
  if (time) record.terminalTime = time.slice(0, 40);
  return { kind: 'records', records: [record], ignored: 0 };
}
