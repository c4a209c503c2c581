/**
 * One card, one number (docs/credentials.md): readers and terminals print the same card in
 * different forms. A reader's or terminal's `cardFormat` says which it prints, and its reads are
 * turned into the one form the card list is written in: the 10-digit decimal most Chinese card
 * systems print (the card's 4-byte UID as a number, its first byte lowest), leading zeros aside.
 *
 * | cardFormat | the reader prints, for UID 87 FA 36 8D | becomes |
 * |---|---|---|
 * | `decimal` | 2369190535 (or 02369190535) | 2369190535 |
 * | `hex` | 87FA368D (the UID in the card's byte order) | 2369190535 |
 * | `hex-reversed` | 8D36FA87 | 2369190535 |
 * | `decimal-reversed` | 2281322125 (the UID's bytes read the other way) | 2369190535 |
 * | `wiegand26` | 054.64135 (facility . number: the low 3 bytes only) | the 24 bits, matched against the list's low 24 bits |
 * | `as-read` (default) | anything | as read (separators, case and leading zeros dropped) |
 */
import { normalizeCard } from './cards.js';

export const CARD_FORMATS = ['as-read', 'decimal', 'hex', 'hex-reversed', 'decimal-reversed', 'wiegand26'] as const;
export type CardFormat = (typeof CARD_FORMATS)[number];

/** A read in the list's form: the whole number, or only its low 24 bits (a Wiegand 26 reader). */
export type CanonicalCard = { card: string; low24?: true };

const U32 = 0xffff_ffff;

function reverse32(n: number): number {
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

/** A read turned into the list's form, or null when it is not a card number in that format. */
export function canonicalCard(text: string, format: CardFormat): CanonicalCard | null {
  const t = text.trim();
  switch (format) {
    case 'as-read': {
      const card = normalizeCard(t);
      return card ? { card } : null;
    }
    case 'decimal':
    case 'decimal-reversed': {
      const digits = t.replace(/^0+(?=\d)/, ''); // readers pad to 10 or more digits
      if (!/^\d{1,10}$/.test(digits)) return null;
      const n = Number(digits);
      if (n > U32) return null;
      return { card: String(format === 'decimal' ? n : reverse32(n)) };
    }
    case 'hex':
    case 'hex-reversed': {
      const hex = t.replace(/[\s:-]/g, '');
      if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
      const n = Number.parseInt(hex, 16) >>> 0;
      return { card: String(format === 'hex-reversed' ? n : reverse32(n)) };
    }
    case 'wiegand26': {
      // facility.number (001.42493, 1,42493), or the 8 digits some readers print (00142493)
      const m = /^(\d{1,3})[.,:/ ](\d{1,5})$/.exec(t) ?? /^(\d{3})(\d{5})$/.exec(t);
      if (!m) return null;
      const facility = Number(m[1]);
      const number = Number(m[2]);
      if (facility > 0xff || number > 0xffff) return null;
      return { card: String((facility << 16) | number), low24: true };
    }
  }
}

/** The low 24 bits of a list entry written as a decimal number (what a Wiegand 26 reader sends). */
export function low24Of(card: string): string | undefined {
  if (!/^\d{1,10}$/.test(card)) return undefined;
  const n = Number(card);
  return n <= U32 ? String(n & 0xff_ffff) : undefined;
}
