/**
 * A lane screen as the vendor document describes it ("显示屏通信协议 v1.08"; docs/lane-screens.md),
 * written here from the document and not from our own frame builder: it splits a byte stream into
 * frames `DA VR PN[2] CMD DL DATA CRC16`, checks each CRC-16/MODBUS (low byte first), decodes the
 * commands a lane uses (GBK text through the platform's own GBK decoder) and makes the screen's
 * answer `DA 64 FF FF CMD 01 ACK CRC`.
 */

export interface ScreenFrame {
  address: number;
  cmd: number;
  data: Buffer;
}

export type Shown =
  | { cmd: 'lines'; save: number; lines: Array<{ line: number; dwellSec: number; repeat: number; color: number[]; text: string }>; voice: string }
  | { cmd: 'temporary'; window: number; entry: number; dwellSec: number; repeat: number; color: number[]; text: string }
  | { cmd: 'voice'; option: number; text: string }
  | { cmd: 'clock'; year: number; month: number; day: number; weekday: number; hour: number; minute: number; second: number }
  | { cmd: 'spaces'; showSec: number; spaces: number }
  | { cmd: 'other'; code: number };

const gbk = new TextDecoder('gbk');

/** CRC-16/MODBUS, bit by bit, as the document's appendix computes it. */
export function modbusCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) {
      const lsb = crc & 1;
      crc >>= 1;
      if (lsb) crc ^= 0xa001;
    }
  }
  return crc;
}

/** Frames in a byte stream, and the bytes of an incomplete last frame. Throws on a bad CRC. */
export function splitFrames(stream: Buffer): { frames: ScreenFrame[]; rest: Buffer } {
  const frames: ScreenFrame[] = [];
  let i = 0;
  while (stream.length - i >= 8) {
    if (stream[i + 1] !== 0x64 || stream[i + 2] !== 0xff || stream[i + 3] !== 0xff)
      throw new Error(`not a frame at byte ${i}: ${stream.subarray(i, i + 8).toString('hex')}`);
    const dl = stream[i + 5]!;
    const total = 6 + dl + 2;
    if (stream.length - i < total) break;
    const body = stream.subarray(i, i + 6 + dl);
    const crc = stream[i + 6 + dl]! | (stream[i + 7 + dl]! << 8);
    if (crc !== modbusCrc(body))
      throw new Error(`CRC ${crc.toString(16)} does not check (expected ${modbusCrc(body).toString(16)}) on ${stream.subarray(i, i + total).toString('hex')}`);
    frames.push({ address: stream[i]!, cmd: stream[i + 4]!, data: Buffer.from(stream.subarray(i + 6, i + 6 + dl)) });
    i += total;
  }
  return { frames, rest: Buffer.from(stream.subarray(i)) };
}

/** What a frame makes the screen do. */
export function decode(f: ScreenFrame): Shown {
  const d = f.data;
  switch (f.cmd) {
    case 0x6e: {
      // SAVE_FLAG, TEXT_CONTEXT_NUMBER, then per line LID DM DS DT DR TC[4] TL TEXT and 0x0D (0x00 after the last), then VF 0x0A VTL VT
      const count = d[1]!;
      let at = 2;
      const lines = [];
      for (let n = 0; n < count; n++) {
        const tl = d[at + 9]!;
        lines.push({
          line: d[at]!,
          dwellSec: d[at + 3]!,
          repeat: d[at + 4]!,
          color: [...d.subarray(at + 5, at + 9)],
          text: gbk.decode(d.subarray(at + 10, at + 10 + tl)),
        });
        const end = d[at + 10 + tl];
        if (end !== (n === count - 1 ? 0x00 : 0x0d)) throw new Error(`line ${n} ends with ${end}, expected ${n === count - 1 ? '00' : '0D'}`);
        at += 11 + tl;
      }
      if (d[at] !== 0x0a) throw new Error(`voice flag ${d[at]}, expected 0A`);
      const vtl = d[at + 1]!;
      if (at + 2 + vtl !== d.length) throw new Error(`0x6E data is ${d.length} bytes, its fields take ${at + 2 + vtl}`);
      return { cmd: 'lines', save: d[0]!, lines, voice: gbk.decode(d.subarray(at + 2, at + 2 + vtl)) };
    }
    case 0x62: {
      // TWID ETM ETS DM DT EXM EXS FINDEX DRS TC[4] BC[4] TL[2] (little-endian) TEXT
      const tl = d.readUInt16LE(17);
      if (19 + tl !== d.length) throw new Error(`0x62 text length ${tl} does not match DL`);
      return { cmd: 'temporary', window: d[0]!, entry: d[1]!, dwellSec: d[4]!, repeat: d[8]!, color: [...d.subarray(9, 13)], text: gbk.decode(d.subarray(19)) };
    }
    case 0x30:
      return { cmd: 'voice', option: d[0]!, text: gbk.decode(d.subarray(1)) };
    case 0x05:
      return { cmd: 'clock', year: d.readUInt16LE(0), month: d[2]!, day: d[3]!, weekday: d[4]!, hour: d[5]!, minute: d[6]!, second: d[7]! };
    case 0xe3:
      return { cmd: 'spaces', showSec: d[3]!, spaces: d.readUInt16LE(5) };
    default:
      return { cmd: 'other', code: f.cmd };
  }
}

/** The screen's answer to a frame: ACK 0 (done). */
export function answer(f: ScreenFrame, ack = 0): Buffer {
  const body = Buffer.from([f.address, 0x64, 0xff, 0xff, f.cmd, 0x01, ack]);
  const crc = modbusCrc(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

/** The screen frames in a Vzenith reply's `serialData`, decoded. */
export function serialDataShown(reply: unknown, channel = 0): Shown[] {
  const r = (reply as { Response_AlarmInfoPlate?: { serialData?: Array<{ serialChannel: number; data: string; dataLen: number }> } }).Response_AlarmInfoPlate;
  const out: Shown[] = [];
  for (const item of r?.serialData ?? []) {
    const bytes = Buffer.from(item.data, 'base64');
    if (bytes.length !== item.dataLen) throw new Error(`dataLen ${item.dataLen} but ${bytes.length} bytes`);
    if (item.serialChannel !== channel) throw new Error(`serialChannel ${item.serialChannel}, expected ${channel}`);
    const { frames, rest } = splitFrames(bytes);
    if (rest.length) throw new Error(`trailing bytes ${rest.toString('hex')}`);
    out.push(...frames.map(decode));
  }
  return out;
}
