/**
 * Raw HTTP requests for device pushes: written to the socket byte for byte, as cameras' and
 * terminals' own HTTP clients do it (HTTP/1.0 with a length, HTTP/1.1 chunked in pieces).
 */
import { connect } from 'node:net';

export type RawMode = 'http1.0' | 'chunked' | 'length';

export interface Raw {
  status: number;
  headers: string;
  body: string;
}

/**
 * One request written to the socket byte for byte, as a camera's own HTTP client does it:
 * HTTP/1.0 with Content-Length and the connection closed after, or HTTP/1.1 chunked.
 */
export function rawPost(port: number, path: string, body: Buffer, contentType: string, mode: RawMode = 'length', headers: string[] = []): Promise<Raw> {
  const head = [`POST ${path} ${mode === 'http1.0' ? 'HTTP/1.0' : 'HTTP/1.1'}`, 'Host: 192.168.1.2', `Content-Type: ${contentType}`, ...headers];
  let payload: Buffer;
  if (mode === 'chunked') {
    head.push('Transfer-Encoding: chunked', 'Connection: close');
    // Cameras write their bodies in pieces: the XML, then each picture.
    const pieces: Buffer[] = [];
    for (let at = 0; at < body.length; at += 1000) {
      const piece = body.subarray(at, at + 1000);
      pieces.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    payload = Buffer.concat([...pieces, Buffer.from('0\r\n\r\n')]);
  } else {
    head.push(`Content-Length: ${body.length}`, 'Connection: close');
    payload = body;
  }
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      let rest = text.slice(split + 4);
      if (/transfer-encoding: chunked/i.test(headers)) rest = dechunk(rest);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1]), headers, body: rest });
    });
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), payload]));
  });
}

function dechunk(text: string): string {
  let out = '';
  for (;;) {
    const nl = text.indexOf('\r\n');
    const size = parseInt(text.slice(0, nl), 16);
    if (!size) return out;
    out += text.slice(nl + 2, nl + 2 + size);
    text = text.slice(nl + 2 + size + 2);
  }
}
