import { z } from 'zod';

/**
 * Byte sizes as installers write them: a plain number of bytes, or `1GB`, `500 MB`, `2GiB`.
 * KB/MB/GB/TB are decimal (1000^n) as on a disk label; KiB/MiB/GiB/TiB are binary (1024^n).
 */
const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/i;
const SIZE_FACTORS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export function parseSize(text: string): number | undefined {
  const m = SIZE_PATTERN.exec(text);
  if (!m) return undefined;
  const factor = SIZE_FACTORS[(m[2] ?? 'b').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.floor(Number(m[1]) * factor);
}

const SIZE_EXPECTED = 'expected a size such as 1GB, 500MB or a number of bytes';

export const byteSize = z
  .union([z.int({ error: SIZE_EXPECTED }).nonnegative({ error: SIZE_EXPECTED }), z.string().regex(SIZE_PATTERN, { error: SIZE_EXPECTED })], {
    error: SIZE_EXPECTED,
  })
  .transform((v) => (typeof v === 'number' ? v : (parseSize(v) as number)))
  .meta({ description: 'Bytes: a number, or a string such as "1GB", "500MB", "2GiB"' });

/** An integer within [min, max], with the range in the message so the installer sees the rule. */
export function intRange(min: number, max: number, unit = '') {
  const error = `expected an integer ${min}-${max}${unit ? ` (${unit})` : ''}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** Milliseconds within a range, as used for pulses, unlock times and timeouts. */
export function millis(min: number, max: number) {
  return intRange(min, max, 'ms');
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join('|')}` });
}

export const idPattern = /^[a-z0-9][a-z0-9-]*$/;
export const id = z
  .string({ error: 'expected an id (lower-case letters, digits and -)' })
  .regex(idPattern, { error: 'expected an id matching ^[a-z0-9][a-z0-9-]*$' })
  .max(64, { error: 'expected an id of at most 64 characters' });

/** A reference to another entry by id; whether it exists is a cross-check. */
export const ref = id;

export const nonEmpty = z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });
