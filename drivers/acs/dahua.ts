/**
 * Dahua access terminals and controllers (ASI series, VTO door stations): the event HTTP upload.
 * The body is JSON `{"Events":[{"Code":"AccessControl","Action":"Pulse","Data":{...}}]}`, or the
 * older text form `Code=AccessControl;action=Pulse;index=0;data={...}` (the one their event stream
 * uses), either of them alone, in a multipart part named `info` beside a picture (dropped
 * unread), or deflate-compressed (`Content-Encoding: deflate`).
 *
 * In `Data`: `Status` 1 is a person let in, 0 refused (`ErrorCode` says why); `Method` how they
 * were verified; `CardNo`, `UserID`. Other codes (DoorStatus, BreakIn, ...) are seen, not recorded.
 */
import { inflateSync, inflateRawSync, gunzipSync } from 'node:zlib';
import { parseJson } from '../../core/json.js';
import { parseMultipart } from '../lpr/multipart.js';
import { decodeText, isRecord } from '../lpr/text.js';
import { PushError, json, show } from '../lpr/types.js';
import type { AcsProtocol, AcsRecord } from './types.js';
import { idText } from './types.js';

/** The most a compressed body may grow to (the raw body is size-limited by the server). */
const INFLATED_LIMIT = 1024 * 1024;

/** Dahua's door-open methods (NET_ACCESS_DOOROPEN_METHOD); others are recorded as `dahua-N`. */
const METHODS: Record<number, string> = {
  0: 'password',
  1: 'card',
  2: 'card-and-password',
  3: 'card-and-password',
  4: 'remote',
  5: 'button',
  6: 'fingerprint',
  15: 'face',
};

export const DAHUA_METHODS = Object.values(METHODS);

export const dahuaTerminal: AcsProtocol = {
  vendor: 'dahua',
  parse(raw, contentType, contentEncoding) {
    const body = inflate(raw, contentEncoding);
    const bytes = /multipart\//i.test(contentType ?? '') ? infoPart(body, contentType ?? '') : body;
    const text = decodeText(bytes).trim();
    if (text === '') throw new PushError('empty body');
    if (/^heartbeat$/i.test(text)) return { kind: 'heartbeat' };
    const events = text.startsWith('{') ? eventsOfJson(text) : eventsOfText(text);
    const records: AcsRecord[] = [];
    let ignored = 0;
    for (const e of events) {
      const r = recordOf(e);
      if (r) records.push(r);
      else ignored++;
    }
    if (records.length === 0) return { kind: 'ignored', what: events.map((e) => `Code ${show(e.code)}`).join(', ') || 'no events' };
    return { kind: 'records', records, ignored };
  },
  reply() {
    return json({ Result: true });
  },
};

function inflate(body: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  try {
    if (enc === 'gzip') return gunzipSync(body, { maxOutputLength: INFLATED_LIMIT });
    if (enc === 'deflate') {
      // Some firmware sends the body plain under this header; others zlib-wrapped or raw deflate.
      if (body[0] === 0x7b /* { */ || body[0] === 0x43 /* C */) return body;
      try {
        return inflateSync(body, { maxOutputLength: INFLATED_LIMIT });
      } catch {
        return inflateRawSync(body, { maxOutputLength: INFLATED_LIMIT });
      }
    }
  } catch (err) {
    throw new PushError(`body could not be decompressed (${enc}): ${(err as Error).message}`);
  }
  throw new PushError(`Content-Encoding ${show(enc)} is not supported`);
}

function infoPart(body: Buffer, contentType: string): Buffer {
  const parts = parseMultipart(body, contentType);
  const part = parts.find((p) => p.name === 'info') ?? parts.find((p) => /^(text|application)\/(plain|json)/i.test(p.contentType ?? '') && !p.filename);
  if (!part) throw new PushError(`multipart body has no event part (parts: ${parts.map((p) => p.name ?? p.filename ?? '?').join(', ')})`);
  return part.data;
}

interface DahuaEvent {
  code: unknown;
  data: unknown;
}

function eventsOfJson(text: string): DahuaEvent[] {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new PushError(`body is not JSON: ${parsed.reason}`);
  const doc = parsed.value;
  if (!isRecord(doc)) throw new PushError('body is not a JSON object');
  const list = doc['Events'];
  if (!Array.isArray(list)) {
    if ('Code' in doc) return [{ code: doc['Code'], data: doc['Data'] }];
    throw new PushError('JSON without an Events list');
  }
  if (list.length > 100) throw new PushError(`too many events in one push (${list.length}, at most 100)`);
  return list.map((e) => (isRecord(e) ? { code: e['Code'], data: e['Data'] } : { code: undefined, data: undefined }));
}

/** `Code=AccessControl;action=Pulse;index=0;data={...}`, one or more, the JSON possibly over several lines. */
function eventsOfText(text: string): DahuaEvent[] {
  const chunks = text.split(/(?=^Code=)/m).filter((c) => c.trim() !== '');
  if (chunks.length === 0 || !chunks[0]!.startsWith('Code=')) throw new PushError('body is neither JSON nor Code=...;data={...} text');
  if (chunks.length > 100) throw new PushError(`too many events in one push (${chunks.length}, at most 100)`);
  return chunks.map((chunk) => {
    const at = chunk.indexOf(';data=');
    const head = at < 0 ? chunk : chunk.slice(0, at);
    const code = /^Code=([^;]*)/.exec(head)?.[1];
    if (at < 0) return { code, data: undefined };
    const parsed = parseJson(chunk.slice(at + 6).trim());
    if (!parsed.ok) throw new PushError(`data of ${show(code)} is not JSON: ${parsed.reason}`);
    return { code, data: parsed.value };
  });
}

function recordOf(e: DahuaEvent): AcsRecord | undefined {
  if (e.code !== 'AccessControl' || !isRecord(e.data)) return undefined;
  const d = e.data;
  const status = Number(d['Status']);
  if (status !== 0 && status !== 1) return undefined;
  const methodNo = Number(d['Method']);
  const method = Number.isInteger(methodNo) ? (METHODS[methodNo] ?? `dahua-${methodNo}`) : 'unknown';
  const errorCode = Number(d['ErrorCode'] ?? 0);
  const record: AcsRecord = {
    outcome: status === 1 ? 'granted' : 'denied',
    method,
    terminalCode: `ErrorCode ${Number.isFinite(errorCode) ? errorCode : show(d['ErrorCode'])}`,
  };
  const card = idText(d['CardNo']);
  const person = idText(d['UserID']);
  if (card) record.card = card;
  if (person) record.person = person;
  const utc = Number(d['UTC']);
  // Dahua firmware differs on whether UTC is UTC or local time counted as UTC: kept as the number sent.
  if (Number.isFinite(utc) && utc > 0 && utc < 1e11) record.terminalTime = String(utc);
  return record;
}
