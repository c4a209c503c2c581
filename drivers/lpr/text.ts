import { parseJson } from '../../core/json.js';
import { PLATE_IN_TEXT_SOURCE } from '../../core/plate-shape.js';

/**
 * Body bytes to text: UTF-8, or GB18030 (a superset of GBK) from older Chinese camera firmware,
 * which sends GBK without saying so.
 *
 * Whether the bytes happen to parse as UTF-8 does not decide it: some GBK plate characters are
 * also valid two-byte UTF-8 sequences (鲁 = C2 B3 reads as "³", 豫 = D4 A5 as "ԥ", 学 = D1 A7 as
 * "ѧ", 使 = CA B9 as "ʹ"), so "鲁B12345" in GBK is valid UTF-8 for "³B12345". A plate decides:
 * text that is valid UTF-8 but holds a character from the two-byte range (U+0080-U+07FF, where
 * no plate character lives) is read as GBK instead when the GBK reading has a plate in it and
 * the UTF-8 reading has none. A charset named in the Content-Type is believed.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const gb18030 = new TextDecoder('gb18030');
const TWO_BYTE_UTF8 = /[\u0080-\u07ff]/u;
const PLATE_IN_TEXT = new RegExp(PLATE_IN_TEXT_SOURCE, 'u');
const GBK_CHARSET = /;\s*charset\s*=\s*"?(gbk|gb2312|gb18030|cp936)"?/i;

export function decodeText(body: Buffer, contentType?: string): string {
  if (contentType && GBK_CHARSET.test(contentType)) return gb18030.decode(body);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return gb18030.decode(body);
  }
  if (!TWO_BYTE_UTF8.test(text) || PLATE_IN_TEXT.test(text)) return text;
  const gbk = gb18030.decode(body);
  return !gbk.includes('\ufffd') && PLATE_IN_TEXT.test(gbk) ? gbk : text;
}

/** Parses a JSON body (bounded in depth: core/json.ts), or throws with what was wrong. */
export function parseJsonBody(body: Buffer, PushErrorClass: new (m: string) => Error, contentType?: string): unknown {
  const text = decodeText(body, contentType).trim();
  if (text === '') throw new PushErrorClass('empty body');
  const parsed = parseJson(text);
  if (!parsed.ok) throw new PushErrorClass(`body is not JSON: ${parsed.reason}`);
  return parsed.value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
