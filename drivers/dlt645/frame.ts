/**
 * DL/T 645-2007, the meter protocol of Chinese single- and three-phase energy meters, as far as
 * a poller needs it: the read request (control code 0x11) and its answers.
 *
 *   [FE FE FE FE] 68 A0 A1 A2 A3 A4 A5 68 C L DATA CS 16
 *
 * The address is the 12-digit meter number in BCD, lowest byte first (AA..AA is the wildcard a
 * lone meter answers to). DATA bytes travel +0x33. CS is the sum of every byte from the first
 * 0x68 to the end of DATA, mod 256. A normal answer has C = 0x91 (0xB1: more frames follow) and
 * carries the 4-byte data identifier (DI, lowest byte first) and the value in BCD, lowest byte
 * first; an error answer has C = 0xD1 and one error byte (0x02: no such data).
 */

export const WILDCARD = 'AAAAAAAAAAAA';
const CONTROL_READ = 0x11;
const MAX_DATA = 200;
/** wake-up bytes a master sends before a frame; meters may send them too */
export const PREAMBLE = Buffer.from([0xfe, 0xfe, 0xfe, 0xfe]);

/** The 12-digit meter number (or the wildcard) as its 6 address bytes on the wire. */
export function addressBytes(address: string): Buffer {
  if (!/^(\d{12}|[Aa]{12})$/.test(address)) throw new RangeError(`DL/T 645 address must be 12 digits (or AAAAAAAAAAAA), got ${JSON.stringify(address)}`);
  const out = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(address.slice(10 - 2 * i, 12 - 2 * i), 16);
  return out;
}

export function addressOf(bytes: Buffer): string {
  let s = '';
  for (let i = 5; i >= 0; i--) s += bytes[i]!.toString(16).padStart(2, '0');
  return s.toUpperCase();
}

const checksum = (buf: Buffer, from: number, to: number) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += buf[i]!;
  return sum & 0xff;
};

/** A read request for one data identifier, e.g. 0x00010000 (forward active energy, total). */
export function readRequest(address: string, di: number): Buffer {
  const frame = Buffer.alloc(16);
  frame[0] = 0x68;
  addressBytes(address).copy(frame, 1);
  frame[7] = 0x68;
  frame[8] = CONTROL_READ;
  frame[9] = 4;
  for (let i = 0; i < 4; i++) frame[10 + i] = (((di >>> (8 * i)) & 0xff) + 0x33) & 0xff;
  frame[14] = checksum(frame, 0, 14);
  frame[15] = 0x16;
  return Buffer.concat([PREAMBLE, frame]);
}

export interface Frame {
  address: string;
  control: number;
  /** DATA with the 0x33 offset taken off */
  data: Buffer;
}

export type Scan =
  | { kind: 'frame'; frame: Frame; end: number }
  /** nothing complete yet; `from` is where a frame may still start (bytes before it are noise) */
  | { kind: 'incomplete'; from: number };

/**
 * Finds the first complete, well-formed frame in what the line delivered. Wake-up bytes, noise
 * and frames with a bad checksum or end byte are stepped over, so a stray byte on the line or an
 * echo of our own request costs nothing but the bytes themselves.
 */
export function scan(buf: Buffer): Scan {
  for (let at = buf.indexOf(0x68); at !== -1; at = buf.indexOf(0x68, at + 1)) {
    if (buf.length < at + 10) return { kind: 'incomplete', from: at };
    if (buf[at + 7] !== 0x68) continue;
    const length = buf[at + 9]!;
    if (length > MAX_DATA) continue;
    const end = at + 12 + length;
    if (buf.length < end) return { kind: 'incomplete', from: at };
    if (buf[end - 1] !== 0x16 || buf[end - 2] !== checksum(buf, at, end - 2)) continue;
    const data = Buffer.alloc(length);
    for (let i = 0; i < length; i++) data[i] = (buf[at + 10 + i]! - 0x33) & 0xff;
    return { kind: 'frame', frame: { address: addressOf(buf.subarray(at + 1, at + 7)), control: buf[at + 8]!, data }, end };
  }
  return { kind: 'incomplete', from: buf.length };
}

export class Dlt645Error extends Error {
  constructor(
    message: string,
    /** the meter's error byte (0x02: no such data, 0x04: password/permission) when it sent one */
    readonly errorCode?: number,
  ) {
    super(message);
    this.name = 'Dlt645Error';
  }
}

/** Whether this frame answers a read of `di` from `address`; a frame for someone else is not. */
export function answers(frame: Frame, address: string, di: number): boolean {
  if (address.toUpperCase() !== WILDCARD && frame.address !== address.toUpperCase()) return false;
  if (frame.control === 0xd1) return true; // an error answer names no DI
  return (frame.control === 0x91 || frame.control === 0xb1) && frame.data.length >= 4 && frame.data.readUInt32LE(0) === di >>> 0;
}

/** The value bytes of an answer (after the DI), or the meter's refusal as a Dlt645Error. */
export function valueBytes(frame: Frame, di: number): Buffer {
  if (frame.control === 0xd1) {
    const code = frame.data[0] ?? 0;
    throw new Dlt645Error(
      `meter ${frame.address} refused DI ${diText(di)}: error 0x${code.toString(16).padStart(2, '0')}${code & 0x02 ? ' (no such data)' : ''}`,
      code,
    );
  }
  return frame.data.subarray(4);
}

export const diText = (di: number) => (di >>> 0).toString(16).padStart(8, '0').toUpperCase();

/**
 * A BCD value, lowest byte first, with `decimals` digits after the point. `signed`: the top bit
 * of the highest byte is the sign (currents and powers).
 */
export function decodeBcd(bytes: Buffer, decimals: number, signed = false): number {
  let digits = 0;
  let negative = false;
  for (let i = bytes.length - 1; i >= 0; i--) {
    let b = bytes[i]!;
    if (signed && i === bytes.length - 1) {
      negative = (b & 0x80) !== 0;
      b &= 0x7f;
    }
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) throw new Dlt645Error(`not a BCD value: ${bytes.toString('hex')}`);
    digits = digits * 100 + hi * 10 + lo;
  }
  const value = digits / 10 ** decimals;
  return negative ? -value : value;
}

export interface DltValue {
  name: string;
  di: number;
  bytes: number;
  decimals: number;
  signed: boolean;
  /** applied after decoding (kW to W) */
  scale: number;
}

/** The values a poller reads, by name (units in the names, as for Modbus meters). */
export const DLT645_VALUES: readonly DltValue[] = [
  { name: 'energyImportKwh', di: 0x00010000, bytes: 4, decimals: 2, signed: false, scale: 1 },
  { name: 'energyExportKwh', di: 0x00020000, bytes: 4, decimals: 2, signed: false, scale: 1 },
  { name: 'voltageL1V', di: 0x02010100, bytes: 2, decimals: 1, signed: false, scale: 1 },
  { name: 'voltageL2V', di: 0x02010200, bytes: 2, decimals: 1, signed: false, scale: 1 },
  { name: 'voltageL3V', di: 0x02010300, bytes: 2, decimals: 1, signed: false, scale: 1 },
  { name: 'currentL1A', di: 0x02020100, bytes: 3, decimals: 3, signed: true, scale: 1 },
  { name: 'currentL2A', di: 0x02020200, bytes: 3, decimals: 3, signed: true, scale: 1 },
  { name: 'currentL3A', di: 0x02020300, bytes: 3, decimals: 3, signed: true, scale: 1 },
  { name: 'powerW', di: 0x02030000, bytes: 3, decimals: 4, signed: true, scale: 1000 },
  { name: 'powerFactor', di: 0x02060000, bytes: 2, decimals: 3, signed: true, scale: 1 },
  { name: 'frequencyHz', di: 0x02800002, bytes: 2, decimals: 2, signed: false, scale: 1 },
];

/** What a single-phase meter (DDSU/DDZY) has, read when the config names nothing else. */
export const DLT645_DEFAULT_VALUES = ['energyImportKwh', 'voltageL1V', 'currentL1A', 'powerW'];

export function decodeValue(v: DltValue, bytes: Buffer): number {
  if (bytes.length < v.bytes) throw new Dlt645Error(`DI ${diText(v.di)}: expected ${v.bytes} value bytes, got ${bytes.length}`);
  return Number((decodeBcd(bytes.subarray(0, v.bytes), v.decimals, v.signed) * v.scale).toPrecision(10));
}
