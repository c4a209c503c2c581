// @ts-check
/**
 * The console's words, zh-CN first and English. Every code the gateway shows (devices/vocabulary.ts:
 * event types, decisions, reasons, actors, faults, refusals) has a translation in both languages
 * (console/words-zh.js, console/words-en.js; each device kind brings the words for its own states and buttons: GET /api/kinds); test/console-vocabulary.test.ts fails on one that is missing, so a guard never
 * sees a raw key. Plain ES module, no DOM: the page and the tests both import it.
 */

import { en } from './words-en.js';
import { zh } from './words-zh.js';

/** @typedef {'zh-CN' | 'en'} Lang */

/** @type {Record<Lang, any>} */
export const T = { 'zh-CN': zh, en };

/**
 * Why the gateway stopped, in words: a signal from systemd or a person, a remote config being
 * applied or rolled back, an upgrade (the reasons gateway/main.ts is given; others as they are).
 * @param {Lang} lang
 * @param {string} reason
 */
export function stopReason(lang, reason) {
  const zh = lang === 'zh-CN';
  const n = /(\d+)$/.exec(reason)?.[1] ?? '';
  if (reason === 'SIGTERM') return zh ? '服务停止（系统）' : 'service stopped (system)';
  if (reason === 'SIGINT') return zh ? '手动停止' : 'stopped by hand';
  if (reason === 'start-failed') return zh ? '启动失败' : 'start failed';
  if (reason.startsWith('config.apply version')) return zh ? `应用远程配置 第 ${n} 版` : `remote config version ${n} applied`;
  if (reason.startsWith('roll back config version')) return zh ? `回滚远程配置 第 ${n} 版` : `remote config version ${n} rolled back`;
  if (reason.startsWith('upgrade to ')) return zh ? `升级到 ${reason.slice(11)}` : `upgrade to ${reason.slice(11)}`;
  return reason;
}

/**
 * Looks a word up; a missing one shows as itself, never as its key path (the vocabulary test
 * keeps that from happening for every word the gateway sends).
 * @param {Lang} lang
 * @param {string} group
 * @param {string} word
 * @returns {string}
 */
export function word(lang, group, word) {
  const table = T[lang]?.[group];
  const found = table?.[word];
  return typeof found === 'string' ? found : word;
}

/** Units by the suffix of a value's name, with the decimals a guard needs. */
const UNITS = /** @type {Array<[RegExp, string, number]>} */ ([
  [/Kwh$/, 'kWh', 1],
  [/VA$/, 'VA', 0],
  [/Var$/, 'var', 0],
  [/Hz$/, 'Hz', 2],
  [/W$/, 'W', 0],
  [/V$/, 'V', 1],
  [/A$/, 'A', 2],
  [/C$/, '°C', 1],
]);

/**
 * A meter value as a person reads it: `voltageL1V 228.6068` → `A相电压 228.6 V` / `Voltage L1 228.6 V`.
 * @param {Lang} lang
 * @param {string} name
 * @param {number} value
 * @returns {{ label: string, text: string }}
 */
export function meterValue(lang, name, value) {
  let unit = '';
  let decimals = 2;
  let base = name;
  for (const [re, u, d] of UNITS) {
    if (re.test(name)) {
      unit = u;
      decimals = d;
      base = name.replace(re, '');
      break;
    }
  }
  const phase = /(L[123])$/.exec(base)?.[1];
  if (phase) base = base.slice(0, -2);
  const what = word(lang, 'values', base);
  const label = phase ? (lang === 'zh-CN' ? `${word(lang, 'values', phase)}${what}` : `${what} ${word(lang, 'values', phase)}`) : what;
  const text = `${Number(value).toFixed(decimals)}${unit ? ` ${unit}` : ''}`;
  return { label, text };
}
