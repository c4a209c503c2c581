/**
 * The shape of a Chinese licence plate, in one place: the plate reader (access/plate.ts), the log
 * masking (core/privacy.ts) and the charset guess for camera text (drivers/lpr/text.ts) all ask it.
 *
 * A plate is a province character, a letter (the issuing office), then 5 characters, or 6 on new
 * energy vehicles (绿牌, 粤BD12345). Some end in a special character (警, 学, 挂, 港, 澳, 领).
 * Embassy and consulate plates start with 使 or 领 instead of a province.
 */
export const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
export const SPECIAL_PREFIXES = '使领';
export const SPECIAL_SUFFIXES = '警学挂港澳领试超';

/** A whole normalised plate (no separators, upper case). */
export const PLATE = new RegExp(
  `^(?:[${PROVINCES}][A-Z][A-Z0-9]{4}[A-Z0-9${SPECIAL_SUFFIXES}]` + // 粤B12345, 粤B1234学
    `|[${PROVINCES}][A-Z][A-Z0-9]{6}` + // new energy: 粤BD12345, 粤B12345F
    `|[${SPECIAL_PREFIXES}][A-Z0-9]{5,6}` + // 使014578
    `|[A-Z]{2}[0-9]{5})$`, // military-style WJ plates read without the 武警 prefix
  'u',
);

/** A plate anywhere in free text, with the separators people and cameras put in it. */
export const PLATE_IN_TEXT_SOURCE = `(?:[${PROVINCES}][A-Z][·.\\s-]?[A-Z0-9]{4,6}[${SPECIAL_SUFFIXES}]?|[${SPECIAL_PREFIXES}][A-Z0-9]{5,6})`;
