/**
 * A small multipart/form-data reader for camera pushes (Hikvision sends the ANPR XML with its
 * JPEG pictures in one multipart body). The whole body is already in memory, size-limited by the
 * HTTP server, so this only splits it; parts are views into the body, not copies.
 */
import { PushError } from './types.js';

export interface Part {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

const MAX_PARTS = 32;
const MAX_HEADER_BYTES = 8 * 1024;

export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new PushError('multipart body without a boundary in its Content-Type');
  return boundary;
}

export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new PushError('multipart body does not contain its boundary');
  for (;;) {
    let start = at + delimiter.length;
    // "--" after a delimiter closes the body
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    else if (body[start] === 0x0a) start += 1;
    const next = body.indexOf(delimiter, start);
    if (next < 0) {
      // Some cameras omit the closing delimiter: take the rest as the last part.
      if (start < body.length) parts.push(readPart(body.subarray(start)));
      break;
    }
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    parts.push(readPart(body.subarray(start, end)));
    if (parts.length > MAX_PARTS) throw new PushError(`multipart body has more than ${MAX_PARTS} parts`);
    at = next;
  }
  if (parts.length === 0) throw new PushError('multipart body has no parts');
  return parts;
}

function readPart(raw: Buffer): Part {
  let split = raw.indexOf('\r\n\r\n');
  let skip = 4;
  const lf = raw.indexOf('\n\n');
  if (split < 0 || (lf >= 0 && lf < split)) {
    split = lf;
    skip = 2;
  }
  if (split < 0 || split > MAX_HEADER_BYTES) throw new PushError('multipart part without a header block');
  const headers = new Map<string, string>();
  for (const line of raw.subarray(0, split).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition') ?? '';
  return {
    name: param(disposition, 'name'),
    filename: param(disposition, 'filename'),
    contentType: headers.get('content-type'),
    data: raw.subarray(split + skip),
  };
}

function param(header: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${key}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(header);
  return m?.[1] ?? m?.[2];
}
