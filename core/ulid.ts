/**
 * ULIDs (github.com/ulid/spec): 48-bit millisecond time + 80 random bits in Crockford base32,
 * 26 characters that sort by time. Monotonic: within one millisecond, or if the clock steps
 * back, the previous id's random part is incremented so ids never sort out of creation order.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** Random bytes fetched 4 KB at a time: one system call per 256 ids, not one per id. */
let pool = Buffer.alloc(0);
let poolAt = 0;

/** 16 base32 digits (80 bits) as numbers 0..31. */
function randomDigits(): number[] {
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const digits: number[] = [];
  for (let i = 0; i < 16; i++) digits.push(pool[poolAt + i]! & 31);
  poolAt += 16;
  return digits;
}

export function ulidFactory(): (timeMs: number) => string {
  let lastTime = -1;
  let lastDigits: number[] = [];
  return (timeMs) => {
    if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME) throw new RangeError(`ulid: bad time ${timeMs}`);
    if (timeMs > lastTime) {
      lastTime = timeMs;
      lastDigits = randomDigits();
    } else {
      // Same millisecond or a clock step back: keep the last time, increment the random part.
      let i = lastDigits.length - 1;
      while (i >= 0 && lastDigits[i] === 31) lastDigits[i--] = 0;
      if (i < 0) throw new RangeError('ulid: random part overflowed within one millisecond');
      lastDigits[i]! += 1;
    }
    return encodeTime(lastTime) + lastDigits.map((d) => ALPHABET[d]).join('');
  };
}

/** The time encoded in a ULID, in ms. */
export function ulidTime(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}
