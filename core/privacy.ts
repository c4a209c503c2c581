/**
 * Plate numbers are personal information: logs keep the province character and the last two
 * characters (粤B12345 → 粤****45), enough for a guard to match a complaint, not to track a car.
 */
import { PLATE_IN_TEXT_SOURCE } from './plate-shape.js';

/** A Chinese plate anywhere in free text (core/plate-shape.ts). */
const PLATE_IN_TEXT = new RegExp(PLATE_IN_TEXT_SOURCE, 'gu');

export function maskPlate(plate: string): string {
  const chars = [...plate];
  if (chars.length <= 3) return '*'.repeat(chars.length);
  return `${chars[0]}${'*'.repeat(chars.length - 3)}${chars.slice(-2).join('')}`;
}

export function maskPlatesInText(text: string): string {
  return text.replace(PLATE_IN_TEXT, (m) => maskPlate(m));
}

const PLATE_KEYS = new Set(['plate', 'rawPlate', 'license', 'licensePlate', 'plateNumber', 'PlateNumber']);
/** Card and person numbers (readers, terminals) are personal too: logs keep the last two characters. */
const NUMBER_KEYS = new Set(['card', 'cardAsRead', 'cardNo', 'CardNo', 'person', 'employeeNoString', 'UserID']);

export function maskNumber(value: string): string {
  const chars = [...value];
  return chars.length <= 2 ? '*'.repeat(chars.length) : `${'*'.repeat(chars.length - 2)}${chars.slice(-2).join('')}`;
}

/** A copy of a log object with every plate masked (values under plate keys, and plates in text), and card and person numbers. */
export function maskPlatesDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPlatesInText(value);
  if (depth > 6 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => maskPlatesDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      PLATE_KEYS.has(k) && typeof v === 'string' ? maskPlate(v) : NUMBER_KEYS.has(k) && typeof v === 'string' ? maskNumber(v) : maskPlatesDeep(v, depth + 1);
  }
  return out;
}

/**
 * Names of fields that may hold a secret: a password (`password`, `passwd`, `pass_wd`, `pwd`), a
 * token, a key, a secret, a signature. Matched in JSON (`"password": "…"`), forms (`pass_wd=…`)
 * and `name: value` text.
 */
const SECRET_FIELD =
  /((?:[a-z_]*pass(?:word|wd|_wd)?|pwd|[a-z_]*token|[a-z_]*secret|[a-z_]*key|sig(?:nature)?|auth[a-z_]*)["']?\s*[:=]\s*)((?:(?:Bearer|Basic|Digest)\s+)?(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|[^&\s,;}\]]*))/gi;

/** Text from outside (a body that would not parse, an error about it) with every value of a field that may be secret replaced by ***. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_FIELD, (_all, name: string) => `${name}***`);
}
