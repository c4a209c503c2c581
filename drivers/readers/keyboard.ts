/**
 * Keyboard-mode (USB HID) readers: the reader types what it read and presses Enter. Linux hands
 * the keys to us as `struct input_event` records from `/dev/input/eventN`: a time (two longs), a
 * type (u16), a code (u16) and a value (s32), little-endian on a Pi. A long is 8 bytes on a
 * 64-bit OS and 4 on a 32-bit one (Raspberry Pi OS armhf), so a record is 24 or 16 bytes.
 *
 * Only key presses are read (type EV_KEY, value 1 press, 2 repeat ignored, 0 release); the keys
 * are a US layout, which is what readers emulate. Shift gives capitals and `_`; Caps Lock is not
 * followed (readers do not use it).
 */
const EV_KEY = 1;
const KEY_ENTER = 28;
const KEY_KPENTER = 96;
const SHIFTS = new Set([42, 54]);

/** Linux key codes (input-event-codes.h) to [plain, shifted] characters. */
const KEYS: Record<number, [string, string]> = {};
const row = (first: number, plain: string, shifted: string) => [...plain].forEach((ch, i) => (KEYS[first + i] = [ch, shifted[i]!]));
row(2, '1234567890-=', '!@#$%^&*()_+');
row(16, 'qwertyuiop[]', 'QWERTYUIOP{}');
row(30, "asdfghjkl;'`", 'ASDFGHJKL:"~');
row(43, '\\zxcvbnm,./', '|ZXCVBNM<>?');
KEYS[57] = [' ', ' '];
// The keypad: some readers type digits there.
const KEYPAD: Record<number, string> = {
  71: '7',
  72: '8',
  73: '9',
  74: '-',
  75: '4',
  76: '5',
  77: '6',
  78: '+',
  79: '1',
  80: '2',
  81: '3',
  82: '0',
  83: '.',
  98: '/',
  55: '*',
};
for (const [code, ch] of Object.entries(KEYPAD)) KEYS[Number(code)] = [ch, ch];

/** The size of one input_event record for this process: 24 bytes on 64-bit, 16 on 32-bit ARM and x86. */
export function inputEventSize(arch: string = process.arch): 16 | 24 {
  return arch === 'arm' || arch === 'ia32' ? 16 : 24;
}

export class KeyboardDecoder {
  private pending = Buffer.alloc(0);
  private shift = 0;
  private text = '';

  constructor(
    private readonly onLine: (text: string) => void,
    private readonly recordSize: 16 | 24 = inputEventSize(),
    private readonly maxChars = 1024,
  ) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const size = this.recordSize;
    const timeBytes = size - 8;
    let at = 0;
    for (; at + size <= buf.length; at += size) {
      const type = buf.readUInt16LE(at + timeBytes);
      const code = buf.readUInt16LE(at + timeBytes + 2);
      const value = buf.readInt32LE(at + timeBytes + 4);
      if (type === EV_KEY) this.key(code, value);
    }
    buf = buf.subarray(at);
    this.pending = Buffer.from(buf);
  }

  private key(code: number, value: number): void {
    if (SHIFTS.has(code)) {
      this.shift += value === 1 ? 1 : value === 0 ? -1 : 0;
      if (this.shift < 0) this.shift = 0;
      return;
    }
    if (value !== 1) return;
    if (code === KEY_ENTER || code === KEY_KPENTER) {
      const line = this.text;
      this.text = '';
      if (line) this.onLine(line);
      return;
    }
    const ch = KEYS[code];
    if (!ch) return;
    if (this.text.length >= this.maxChars) return; // ends at the next Enter, cut short: refused as unreadable
    this.text += this.shift > 0 ? ch[1] : ch[0];
  }
}

/** Encodes text as the key records a keyboard-mode reader makes (for tests and the simulator). */
export function typeAsKeyboard(text: string, recordSize: 16 | 24 = inputEventSize()): Buffer {
  const byChar = new Map<string, [number, boolean]>();
  for (const [code, [plain, shifted]] of Object.entries(KEYS)) {
    if (!byChar.has(plain)) byChar.set(plain, [Number(code), false]);
    if (!byChar.has(shifted)) byChar.set(shifted, [Number(code), true]);
  }
  const records: Buffer[] = [];
  const rec = (type: number, code: number, value: number) => {
    const b = Buffer.alloc(recordSize);
    b.writeUInt16LE(type, recordSize - 8);
    b.writeUInt16LE(code, recordSize - 6);
    b.writeInt32LE(value, recordSize - 4);
    records.push(b);
  };
  const press = (code: number) => {
    rec(4, 4, code); // EV_MSC MSC_SCAN, as real keyboards send before each key
    rec(EV_KEY, code, 1);
    rec(0, 0, 0);
    rec(EV_KEY, code, 0);
    rec(0, 0, 0);
  };
  for (const ch of text) {
    const k = byChar.get(ch);
    if (!k) throw new Error(`no key types ${JSON.stringify(ch)}`);
    if (k[1]) rec(EV_KEY, 42, 1);
    press(k[0]);
    if (k[1]) rec(EV_KEY, 42, 0);
  }
  press(KEY_ENTER);
  return Buffer.concat(records);
}
