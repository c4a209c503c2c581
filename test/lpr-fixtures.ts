/** Camera bodies: test/fixtures/lpr (the contract's samples and variants made here) and field/ (third parties' captures). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const fixture = (name: string) => readFileSync(here(`./fixtures/lpr/${name}`));
/** Captures from real cameras and vendors' documents (test/fixtures/lpr/field/README.md says where each is from). */
export const field = (name: string) => readFileSync(here(`./fixtures/lpr/field/${name}`));

/** A multipart body the way Hikvision cameras send it: the XML part, then JPEG parts. */
export function multipart(xml: Buffer, opts: { boundary?: string; jpegType?: string; xmlName?: string; xmlType?: string | null; crlf?: boolean } = {}) {
  const boundary = opts.boundary ?? 'MIME_boundary';
  const nl = opts.crlf === false ? '\n' : '\r\n';
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x0d, 0x0a, 0x2d, 0x2d, 0xff, 0xd9]);
  const part = (headers: string[], data: Buffer) => Buffer.concat([Buffer.from(`--${boundary}${nl}${headers.join(nl)}${nl}${nl}`), data, Buffer.from(nl)]);
  const xmlHeaders = [`Content-Disposition: form-data; name="${opts.xmlName ?? 'anpr.xml'}"; filename="${opts.xmlName ?? 'anpr.xml'}"`];
  if (opts.xmlType !== null) xmlHeaders.push(`Content-Type: ${opts.xmlType ?? 'application/xml'}`);
  const body = Buffer.concat([
    part(xmlHeaders, xml),
    part(
      [`Content-Disposition: form-data; name="licensePlatePicture.jpg"; filename="licensePlatePicture.jpg"`, `Content-Type: ${opts.jpegType ?? 'image/jpeg'}`],
      jpeg,
    ),
    part([`Content-Disposition: form-data; name="vehiclePicture.jpg"; filename="vehiclePicture.jpg"`, `Content-Type: ${opts.jpegType ?? 'image/jpeg'}`], jpeg),
    Buffer.from(`--${boundary}--${nl}`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
