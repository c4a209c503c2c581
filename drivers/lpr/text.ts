import { parseJson } from '../../core/json.js';

/** Body bytes to text: UTF-8, or GB18030 (a superset of GBK) from older Chinese camera firmware. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const gb18030 = new TextDecoder('gb18030');

export function decodeText(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    return gb18030.decode(body);
  }
}

/** Parses a JSON body (bounded in depth: core/json.ts), or throws with what was wrong. */
export function parseJsonBody(body: Buffer, PushErrorClass: new (m: string) => Error): unknown {
  const text = decodeText(body).trim();
  if (text === '') throw new PushErrorClass('empty body');
  const parsed = parseJson(text);
  if (!parsed.ok) throw new PushErrorClass(`body is not JSON: ${parsed.reason}`);
  return parsed.value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
