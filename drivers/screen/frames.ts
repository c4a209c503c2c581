/**
 * The lane-screen protocol that most Chinese car-park LED screens with a voice module speak
 * (document "显示屏通信协议 v1.08"; docs/lane-screens.md keeps what we rely on). A frame is
 *
 *     DA VR PN[2] CMD DL DATA[DL] CRC[2]
 *
 * DA the screen's address (0x00 by default), VR 0x64, PN 0xFF 0xFF, DL the data length (one byte,
 * so DATA is at most 255 bytes), CRC-16/MODBUS over everything before it, low byte first. Text is
 * GBK (one byte per ASCII character, two per Chinese character: the byte count is also the number
 * of half-width cells the text takes on the screen). The screen answers `DA 64 FF FF CMD 01 ACK
 * CRC`, ACK 0 meaning done.
 */
import iconv from 'iconv-lite';
import { MAX_DATA, MAX_LINE_BYTES, MAX_LINES, MAX_VOICE_BYTES } from './limits.js';

export const VR = 0x64;
export const CMD = {
  setClock: 0x05,
  voice: 0x30,
  temporaryText: 0x62,
  lines: 0x6e,
  payPage: 0xe1,
  spacesPage: 0xe3,
} as const;

export { MAX_DATA, MAX_LINE_BYTES, MAX_LINES, MAX_VOICE_BYTES } from './limits.js';

export type Rgba = readonly [number, number, number, number];
export const RED: Rgba = [0xff, 0, 0, 0];
export const GREEN: Rgba = [0, 0xff, 0, 0];
export const YELLOW: Rgba = [0xff, 0xff, 0, 0];
const BLACK: Rgba = [0, 0, 0, 0];

/** CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Text as the screen wants it: GBK. */
export function gbk(text: string): Buffer {
  return iconv.encode(text, 'gbk');
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** One frame: header, command, length, data and CRC. */
export function frame(cmd: number, data: Uint8Array, address = 0): Buffer {
  if (data.length > MAX_DATA) throw new FrameError(`a screen frame holds at most ${MAX_DATA} data bytes, this one needs ${data.length}`);
  const head = Buffer.from([address, VR, 0xff, 0xff, cmd, data.length]);
  const body = Buffer.concat([head, data]);
  const crc = crc16(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >>> 8])]);
}

export interface Frame {
  address: number;
  cmd: number;
  data: Buffer;
}

/**
 * Reads frames out of a byte stream (a serial line delivers them in pieces, with noise between):
 * returns the frames found and the bytes left over for the next call. Bytes that cannot start a
 * frame, and frames whose CRC fails, are skipped and counted.
 */
export function readFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer; skipped: number } {
  const frames: Frame[] = [];
  let at = 0;
  let skipped = 0;
  while (buffer.length - at >= 8) {
    if (buffer[at + 1] !== VR || buffer[at + 2] !== 0xff || buffer[at + 3] !== 0xff) {
      at++;
      skipped++;
      continue;
    }
    const length = buffer[at + 5]!;
    const end = at + 6 + length + 2;
    if (end > buffer.length) break;
    const crc = crc16(buffer.subarray(at, end - 2));
    if (buffer[end - 2] !== (crc & 0xff) || buffer[end - 1] !== crc >>> 8) {
      at++;
      skipped++;
      continue;
    }
    frames.push({ address: buffer[at]!, cmd: buffer[at + 4]!, data: Buffer.from(buffer.subarray(at + 6, end - 2)) });
    at = end;
  }
  return { frames, rest: Buffer.from(buffer.subarray(at)), skipped };
}

export interface Line {
  text: string;
  color?: Rgba;
}

export interface LinesOptions {
  /** seconds each line stays (DT) */
  dwellSec: number;
  /** times shown (DR); 0 = until replaced */
  repeat: number;
  address?: number;
}

/**
 * 0x6E: up to four lines and a voice text in one frame. DATA = SAVE_FLAG (0: the temporary area,
 * for content that changes often) + line count + per line `LID DM DS DT DR TC[4] TL TEXT`, lines
 * separated by 0x0D and the last ended by 0x00, then VF (0x0A) + VTL + voice text.
 */
export function linesFrame(lines: readonly Line[], voice: string | undefined, options: LinesOptions): Buffer {
  if (lines.length > MAX_LINES) throw new FrameError(`a screen shows at most ${MAX_LINES} lines, got ${lines.length}`);
  const parts: Buffer[] = [Buffer.from([0x00, lines.length])];
  lines.forEach((line, i) => {
    const text = gbk(line.text);
    if (text.length > MAX_LINE_BYTES) throw new FrameError(`line ${i + 1} "${line.text}" takes ${text.length} bytes, a line holds ${MAX_LINE_BYTES}`);
    const dwell = Math.min(255, Math.max(0, Math.round(options.dwellSec)));
    parts.push(
      Buffer.from([i, 0x00, 0x00, dwell, options.repeat, ...(line.color ?? (i % 2 ? GREEN : RED)), text.length]),
      text,
      Buffer.from([i === lines.length - 1 ? 0x00 : 0x0d]),
    );
  });
  const spoken = gbk(voice ?? '');
  if (spoken.length > MAX_VOICE_BYTES) throw new FrameError(`voice "${voice}" takes ${spoken.length} bytes, the screen takes ${MAX_VOICE_BYTES}`);
  parts.push(Buffer.from([0x0a, spoken.length]), spoken);
  return frame(CMD.lines, Buffer.concat(parts), options.address);
}

export interface TemporaryTextOptions {
  window: number;
  /** entry mode (ETM), e.g. 0x00 at once, 0x15 continuous left */
  entry: number;
  speed: number;
  dwellSec: number;
  exit: number;
  repeat: number;
  color: Rgba;
  address?: number;
}

/**
 * 0x62: one window's temporary text. DATA = TWID ETM ETS DM DT EXM EXS FINDEX DRS TC[4] BC[4]
 * TL[2] (little-endian) TEXT; DM is reserved (0) and FINDEX fixed at 3.
 */
export function temporaryTextFrame(text: string, o: TemporaryTextOptions): Buffer {
  const bytes = gbk(text);
  const tl = Buffer.alloc(2);
  tl.writeUInt16LE(bytes.length);
  const head = Buffer.from([o.window, o.entry, o.speed, 0x00, o.dwellSec, o.exit, o.speed, 0x03, o.repeat, ...o.color, ...BLACK]);
  return frame(CMD.temporaryText, Buffer.concat([head, tl, bytes]), o.address);
}

/** 0x30: speak a text. DATA = OPT + TEXT; OPT 0x02 clears what is queued first (a lane's news is now). */
export function voiceFrame(text: string, address = 0): Buffer {
  const bytes = gbk(text);
  if (bytes.length > MAX_DATA - 1) throw new FrameError(`voice "${text}" takes ${bytes.length} bytes, a frame takes ${MAX_DATA - 1}`);
  return frame(CMD.voice, Buffer.concat([Buffer.from([0x02]), bytes]), address);
}

/**
 * 0x05: set the screen's clock to local wall time. DATA = Y[2] (little-endian) M D W H N S; W is
 * the weekday with Sunday 0 (the document does not say which day is 0: docs/lane-screens.md).
 */
export function clockFrame(
  local: { year: number; month: number; day: number; weekday: number; hour: number; minute: number; second: number },
  address = 0,
): Buffer {
  const y = Buffer.alloc(2);
  y.writeUInt16LE(local.year);
  return frame(CMD.setClock, Buffer.concat([y, Buffer.from([local.month, local.day, local.weekday, local.hour, local.minute, local.second])]), address);
}

/**
 * 0xE3: the spaces-left page. DATA = SF EM ETM ST NI NUM. The document names the fields without
 * saying their widths or meanings beyond "NUM"; we send SF 0 (temporary), EM 0 (at once), ETM 0,
 * ST the seconds shown, NI 0 and NUM as 16 bits little-endian like the other lengths. Unsure:
 * used only when a lane's display asks for it (`spacesPage: true`), see docs/lane-screens.md.
 */
export function spacesFrame(spaces: number, showSec: number, address = 0): Buffer {
  const num = Buffer.alloc(2);
  num.writeUInt16LE(Math.max(0, Math.min(0xffff, Math.round(spaces))));
  return frame(CMD.spacesPage, Buffer.concat([Buffer.from([0x00, 0x00, 0x00, Math.min(255, showSec), 0x00]), num]), address);
}

/** The screen's answer to a frame: ACK 0 is done. */
export function ackOf(f: Frame): number | undefined {
  return f.data.length === 1 ? f.data[0] : undefined;
}

/**
 * What a frame we send shows, in one line for a person (the demo's terminal, logs): the lines of
 * a 0x6E joined by " / " and its voice after a "🔊", or undefined for frames that show no text.
 */
export function describeFrame(f: Frame): string | undefined {
  if (f.cmd !== CMD.lines) return undefined;
  const d = f.data;
  const lines: string[] = [];
  let at = 2;
  for (let n = 0; n < (d[1] ?? 0) && at + 10 <= d.length; n++) {
    const tl = d[at + 9]!;
    lines.push(iconv.decode(d.subarray(at + 10, at + 10 + tl), 'gbk'));
    at += 11 + tl;
  }
  const vtl = d[at + 1] ?? 0;
  const voice = vtl ? iconv.decode(d.subarray(at + 2, at + 2 + vtl), 'gbk') : '';
  return `${lines.join(' / ')}${voice ? `  🔊 ${voice}` : ''}`;
}
