/**
 * Chinese licence plates as cameras read them, normalised to one spelling so that a read matches
 * the allowlist whatever the camera, firmware or typist did to it.
 *
 * A plate is a province character, a letter (the issuing office), then 5 characters, or 6 on new
 * energy vehicles (绿牌, 粤BD12345). Some end in a special character (警, 学, 挂, 港, 澳, 领).
 * Cameras and people add full-width forms (粤Ｂ１２３４５), spaces, dots and dashes (粤B·12345,
 * 粤B-12345) and lower case; "unknown", "无车牌" and empty reads mean no plate was read.
 */

import { PLATE, PROVINCES } from '../core/plate-shape.js';

export { PROVINCES } from '../core/plate-shape.js';

/** Reads cameras send when they saw a vehicle but no plate. */
const NO_PLATE = new Set(['', 'UNKNOWN', 'NONE', 'NULL', 'NOPLATE', 'NO PLATE', '无', '无车牌', '无牌', '_无_', '车牌', '未识别', '-']);

/** Separators people and cameras put inside plates: spaces, dots, middle dots, dashes, underscores. */
const SEPARATORS = /[\s·•・.\-_－—‧･]+/gu;

export interface PlateRead {
  /** the normalised plate, or null when the camera read no plate */
  plate: string | null;
  /** whether the normalised plate has a recognised Chinese plate shape */
  valid: boolean;
  /** the plate colour the camera wrote in front of the plate (蓝皖A7XG66), split off */
  color?: PlateColor;
}

export type PlateColor = 'blue' | 'yellow' | 'green' | 'white' | 'black' | 'yellow-green';

/**
 * Hikvision's Chinese firmware writes the plate colour in front of the plate in `licensePlate`
 * (蓝皖A7XG66; the ISAPI schema asks for it on Chinese plates), and other cameras and exports
 * do the same. No province character is a colour, so a leading colour word before a plate
 * shape is never part of the plate. Longest words first (渐变绿 before 绿).
 */
const COLOR_PREFIXES: ReadonlyArray<[string, PlateColor]> = [
  ['渐变绿', 'green'], // new-energy small car: gradient green
  ['黄绿', 'yellow-green'], // new-energy large vehicle
  ['蓝', 'blue'],
  ['黄', 'yellow'],
  ['绿', 'green'],
  ['白', 'white'],
  ['黑', 'black'],
];

/** Longest plate text kept from a read (a camera sending a novel is not a plate). */
export const MAX_PLATE_LENGTH = 16;

export function normalizePlate(raw: string | null | undefined): PlateRead {
  if (raw === null || raw === undefined) return { plate: null, valid: false };
  // NFKC folds full-width letters and digits (Ｂ１２) to ASCII and leaves CJK characters alone.
  const folded = raw.normalize('NFKC').trim().toUpperCase();
  if (NO_PLATE.has(folded)) return { plate: null, valid: false };
  let plate = folded.replace(SEPARATORS, '').replace(/[^\p{L}\p{N}]/gu, '');
  let color: PlateColor | undefined;
  for (const [word, name] of COLOR_PREFIXES) {
    if (plate.startsWith(word) && PLATE.test(plate.slice(word.length))) {
      plate = plate.slice(word.length);
      color = name;
      break;
    }
  }
  if (plate === '' || NO_PLATE.has(plate)) return { plate: null, valid: false };
  const kept = [...plate].slice(0, MAX_PLATE_LENGTH).join('');
  return { plate: kept, valid: PLATE.test(kept), ...(color ? { color } : {}) };
}

/** True for new-energy (green) plates: 6 characters after the office letter. */
export function isNewEnergy(plate: string): boolean {
  return PLATE.test(plate) && [...plate].length === 8 && PROVINCES.includes([...plate][0] ?? '');
}
