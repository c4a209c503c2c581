/**
 * What a lane screen shows and says for each outcome (docs/parking.md): built-in messages in
 * Chinese (default) and English, replaced per outcome by `access.screen.messages`. Templates use
 * {placeholders}; `validate` refuses one that cannot fit a lane's screen, measured with each
 * placeholder at its widest (checkScreenFit), so a template never overflows in the field.
 *
 * Widths are in half-width cells: a Chinese character takes two, as its GBK bytes do.
 */
import type { LaneDisplayConfig, ScreenConfig, ScreenMessage, ScreenOutcome, VehicleClass } from '../schema/sections.js';
import { SCREEN_OUTCOMES } from '../schema/sections.js';
import { MAX_VOICE_BYTES } from '../drivers/screen/limits.js';

export type ScreenLanguage = ScreenConfig['language'];

/** The placeholders a template may use. */
export const PLACEHOLDERS = ['plate', 'class', 'days', 'until', 'fee', 'duration', 'spaces', 'reason', 'time'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type MessageValues = Partial<Record<Placeholder, string>>;

const CLASS_WORDS: Record<ScreenLanguage, Record<VehicleClass, string>> = {
  'zh-CN': { monthly: '月租车', owner: '业主车', free: '免费车', blocked: '黑名单', temporary: '临时车' },
  en: { monthly: 'Monthly', owner: 'Resident', free: 'Free', blocked: 'Blocked', temporary: 'Visitor' },
};

/** Why a car is refused, as the driver reads it. */
const REASON_WORDS: Record<ScreenLanguage, Record<string, string>> = {
  'zh-CN': {
    blocked: '黑名单车辆',
    full: '车位已满',
    visitor: '外来车辆',
    expired: '月租已过期',
    'lane-not-allowed': '无权通行',
    'already-inside': '车辆已在场内',
    'never-entered': '无入场记录',
    'no-plate': '未识别车牌',
    'low-confidence': '识别不清',
    timeout: '无人确认',
    staff: '岗亭拒绝',
    other: '禁止通行',
  },
  en: {
    blocked: 'Blocked car',
    full: 'Car park full',
    visitor: 'Visitor',
    expired: 'Pass expired',
    'lane-not-allowed': 'Not this lane',
    'already-inside': 'Already inside',
    'never-entered': 'No entry found',
    'no-plate': 'Plate unread',
    'low-confidence': 'Plate unclear',
    timeout: 'No answer',
    staff: 'Refused',
    other: 'No entry',
  },
};

export function classWord(language: ScreenLanguage, cls: VehicleClass): string {
  return CLASS_WORDS[language][cls];
}

export function reasonWord(language: ScreenLanguage, reason: string): string {
  const words = REASON_WORDS[language];
  return words[reason] ?? words['other']!;
}

const msg = (lines: string[], voice?: string): ScreenMessage => ({ lines, ...(voice !== undefined ? { voice } : {}) });

/** Built in, designed for a 4-line screen of 16 cells (the default `display.width`). */
export const BUILT_IN: Record<ScreenLanguage, Record<ScreenOutcome, ScreenMessage>> = {
  'zh-CN': {
    welcome: msg(['{plate}', '{class}', '欢迎光临'], '{plate}，欢迎光临'),
    renew: msg(['{plate}', '月租剩余{days}天', '请及时续费'], '{plate}，月租剩余{days}天，请及时续费'),
    expired: msg(['{plate}', '月租已过期', '按临时车收费'], '{plate}，月租已过期，按临时车收费'),
    refused: msg(['{plate}', '{reason}', '禁止通行'], '{plate}，{reason}，禁止通行'),
    full: msg(['{plate}', '车位已满', '请勿入场'], '车位已满，请勿入场'),
    wait: msg(['{plate}', '{class}', '请稍候'], '{plate}，请稍候'),
    goodbye: msg(['{plate}', '停车{duration}', '一路顺风'], '{plate}，一路顺风'),
    pay: msg(['{plate}', '停车{duration}', '请缴费{fee}元'], '{plate}，请缴费{fee}元'),
    idle: msg(['欢迎光临', '余位{spaces}', '{time}']),
  },
  en: {
    welcome: msg(['{plate}', '{class}', 'Welcome'], '{plate}, welcome'),
    renew: msg(['{plate}', '{days} days left', 'Please renew'], '{plate}, {days} days left, please renew'),
    expired: msg(['{plate}', 'Pass expired', 'Visitor fee'], '{plate}, pass expired, visitor fee applies'),
    refused: msg(['{plate}', '{reason}', 'No entry'], '{plate}, {reason}, no entry'),
    full: msg(['{plate}', 'Car park full', 'No entry'], 'Car park full'),
    wait: msg(['{plate}', '{class}', 'Please wait'], '{plate}, please wait'),
    goodbye: msg(['{plate}', 'Stay {duration}', 'Goodbye'], '{plate}, goodbye'),
    pay: msg(['{plate}', 'Stay {duration}', 'Pay {fee}'], '{plate}, please pay {fee} yuan'),
    idle: msg(['Welcome', 'Spaces {spaces}', '{time}']),
  },
};

/** The messages in force: the built-in ones in the screen's language, each replaced by the config's own. */
export function messagesOf(screen: ScreenConfig): Record<ScreenOutcome, ScreenMessage> {
  const out = { ...BUILT_IN[screen.language] };
  for (const o of SCREEN_OUTCOMES) {
    const own = screen.messages[o];
    if (own) out[o] = own;
  }
  return out;
}

/** The widest each placeholder can render, in cells. */
function widest(language: ScreenLanguage): Record<Placeholder, number> {
  const max = (words: Iterable<string>) => Math.max(...[...words].map(cellsOf));
  return {
    plate: 10, // a province character (2), a letter, six characters, a special suffix (2): 粤BD12345 is 9
    class: max(Object.values(CLASS_WORDS[language])),
    days: 4,
    until: 10, // 2027-12-31
    fee: 7, // 9999.50
    duration: language === 'zh-CN' ? 12 : 11, // 99天23时59分, 99d 23h 59m
    spaces: 5,
    reason: max(Object.values(REASON_WORDS[language])),
    time: 5, // 18:05
  };
}

/** Cells a text takes: two for a character outside ASCII (its GBK bytes), one for ASCII. */
export function cellsOf(text: string): number {
  let n = 0;
  for (const ch of text) n += ch.charCodeAt(0) < 0x80 ? 1 : 2;
  return n;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** A template's widest rendering, and the placeholders it names that do not exist. */
export function measure(template: string, language: ScreenLanguage): { cells: number; unknown: string[] } {
  const widths = widest(language);
  const unknown: string[] = [];
  let cells = cellsOf(template.replace(PLACEHOLDER, ''));
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name! in widths) cells += widths[name as Placeholder];
    else unknown.push(name!);
  }
  return { cells, unknown };
}

/** Fills a template in; a value missing shows as "-". */
export function render(template: string, values: MessageValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    (PLACEHOLDERS as readonly string[]).includes(name) ? (values[name as Placeholder] ?? '-') : whole,
  );
}

/** Cuts a text to `cells` cells at a character boundary. */
export function fitCells(text: string, cells: number): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    const w = ch.charCodeAt(0) < 0x80 ? 1 : 2;
    if (n + w > cells) break;
    out += ch;
    n += w;
  }
  return out;
}

export interface FitProblem {
  path: string;
  message: string;
}

/**
 * Whether every message fits every lane screen: lines within the screen's line count and width,
 * voice within what the screen takes, placeholders that exist. Paths name the template; the
 * message names the lane whose screen it does not fit.
 */
export function checkScreenFit(screen: ScreenConfig, lanes: ReadonlyArray<{ id: string; at: string; display: LaneDisplayConfig }>): FitProblem[] {
  const problems: FitProblem[] = [];
  const messages = messagesOf(screen);
  // the built-in messages that do not fit a lane are one problem at the lane: its width or lines
  const builtInMisfit = new Map<string, { cells: number; line: string; lines: number }>();
  for (const outcome of SCREEN_OUTCOMES) {
    const m = messages[outcome];
    const own = screen.messages[outcome] !== undefined;
    const where = `access.screen.messages.${outcome}`;
    if (own) {
      const texts = [
        ...m.lines.map((line, i) => ({ text: line, path: `${where}.lines[${i}]` })),
        ...(m.voice !== undefined ? [{ text: m.voice, path: `${where}.voice` }] : []),
      ];
      for (const t of texts) {
        const { unknown } = measure(t.text, screen.language);
        for (const name of unknown)
          problems.push({ path: t.path, message: `unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})` });
      }
      if (m.voice !== undefined) {
        const { cells } = measure(m.voice, screen.language);
        if (cells > MAX_VOICE_BYTES)
          problems.push({ path: `${where}.voice`, message: `"${m.voice}" can take ${cells} bytes spoken; a screen takes ${MAX_VOICE_BYTES}` });
      }
    }
    for (const lane of lanes) {
      const d = lane.display;
      const widest = m.lines.map((line) => ({ line, cells: measure(line, screen.language).cells })).sort((a, b) => b.cells - a.cells)[0];
      if (!own) {
        if ((widest && widest.cells > d.width) || m.lines.length > d.lines) {
          const seen = builtInMisfit.get(lane.id);
          if (!seen || (widest?.cells ?? 0) > seen.cells)
            builtInMisfit.set(lane.id, { cells: widest?.cells ?? 0, line: widest?.line ?? '', lines: Math.max(seen?.lines ?? 0, m.lines.length) });
        }
        continue;
      }
      if (m.lines.length > d.lines) {
        problems.push({ path: `${where}.lines`, message: `${m.lines.length} lines; the screen of ${lane.id} has ${d.lines} (${lane.at}.display.lines)` });
      }
      m.lines.forEach((line, i) => {
        const { cells } = measure(line, screen.language);
        if (cells > d.width) {
          problems.push({
            path: `${where}.lines[${i}]`,
            message: `"${line}" can take ${cells} cells (a Chinese character takes 2); the screen of ${lane.id} is ${d.width} wide (${lane.at}.display.width)`,
          });
        }
      });
    }
  }
  for (const lane of lanes) {
    const misfit = builtInMisfit.get(lane.id);
    if (!misfit) continue;
    const d = lane.display;
    const wide = misfit.cells > d.width;
    problems.push({
      path: `${lane.at}.display.${wide ? 'width' : 'lines'}`,
      message: wide
        ? `the built-in messages need ${misfit.cells} cells per line (e.g. "${misfit.line}"); this screen is ${d.width} wide: write access.screen.messages that fit it`
        : `the built-in messages need ${misfit.lines} lines; this screen has ${d.lines}: write access.screen.messages that fit it`,
    });
  }
  return problems;
}

/** What a decision shows on the lane's screen: which message, filled in with what. */
export interface ScreenShow {
  outcome: ScreenOutcome;
  values: MessageValues;
}

/** What the screen needs of a decision (access/access.ts Verdict). */
export interface DecisionFacts {
  decision: 'granted' | 'denied' | 'pending';
  reason: string;
  class: VehicleClass;
  chargedAs?: 'temporary';
  daysLeft?: number;
  durationSec?: number;
  feeCents?: number;
  spacesLeft?: number;
}

/** The message for a decision at an entry (`in`) or exit (`out`), and its values. */
export function screenFor(direction: 'in' | 'out', plate: string | null, d: DecisionFacts, screen: ScreenConfig, now: Date, until?: string): ScreenShow {
  const lang = screen.language;
  const values: MessageValues = {
    plate: plate ?? (lang === 'zh-CN' ? '未识别' : 'No plate'),
    class: classWord(lang, d.chargedAs ?? d.class),
    reason: reasonWord(lang, d.reason),
    time: clockText(now),
  };
  if (d.daysLeft !== undefined) values.days = String(Math.max(0, d.daysLeft));
  if (until !== undefined) values.until = until.slice(0, 10);
  if (d.feeCents !== undefined) values.fee = (d.feeCents / 100).toFixed(2);
  if (d.durationSec !== undefined) values.duration = durationText(d.durationSec, lang);
  if (d.spacesLeft !== undefined) values.spaces = String(d.spacesLeft);
  let outcome: ScreenOutcome;
  if (d.decision === 'pending') outcome = d.reason === 'fee-due' ? 'pay' : 'wait';
  else if (d.decision === 'denied') outcome = d.reason === 'full' ? 'full' : 'refused';
  else if (direction === 'out') outcome = 'goodbye';
  else if (d.reason === 'expired') outcome = 'expired';
  else if (d.class === 'monthly' && !d.chargedAs && d.daysLeft !== undefined && d.daysLeft <= screen.renewDays) outcome = 'renew';
  else outcome = 'welcome';
  return { outcome, values };
}

/** The idle page's values: spaces left (when the lane counts for a car park) and the time. */
export function idleValues(spaces: number | undefined, now: Date): MessageValues {
  return { time: clockText(now), ...(spaces !== undefined ? { spaces: String(spaces) } : {}) };
}

function clockText(d: Date): string {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A stay as a driver reads it: 2时15分 / 1天3时 / 2h 15m. */
export function durationText(seconds: number, lang: ScreenLanguage): string {
  const m = Math.floor(seconds / 60);
  const days = Math.floor(m / 1440);
  const hours = Math.floor((m % 1440) / 60);
  const mins = m % 60;
  if (lang === 'zh-CN') return days ? `${days}天${hours}时${mins}分` : hours ? `${hours}时${mins}分` : `${mins}分钟`;
  return days ? `${days}d ${hours}h ${mins}m` : hours ? `${hours}h ${mins}m` : `${mins} min`;
}
