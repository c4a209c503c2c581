#!/usr/bin/env node
/**
 * Draws docs/images/lane-screen.png: what a lane's 4-line, 16-cell LED screen shows for five
 * outcomes, rendered from the gateway's own built-in messages (dist/access/screen-messages.js),
 * photographed in Debian's chromium. Run after `npm run build`: node scripts/lane-screen-picture.mjs
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const dist = new URL('../dist/', import.meta.url);
const { BUILT_IN, render, fitCells, screenFor } = await import(new URL('access/screen-messages.js', dist).href);
const screen = { language: 'zh-CN', renewDays: 30, dwellSec: 10, messages: {} };
const now = new Date('2026-12-07T18:05:00+08:00');
const shows = [
  ['月租车 monthly', screenFor('in', '粤B22222', { decision: 'granted', reason: 'resident', class: 'monthly', daysLeft: 152 }, screen, now)],
  ['续费提醒 renewal due', screenFor('in', '粤B11111', { decision: 'granted', reason: 'resident', class: 'monthly', daysLeft: 12 }, screen, now)],
  ['黑名单 blocked', screenFor('in', '粤B66666', { decision: 'denied', reason: 'blocked', class: 'blocked' }, screen, now)],
  ['车位已满 full', screenFor('in', '粤A88888', { decision: 'denied', reason: 'full', class: 'temporary' }, screen, now)],
  ['空闲 idle', { outcome: 'idle', values: { spaces: '37', time: '18:05' } }],
];
const colour = { welcome: '#3f3', renew: '#fd2', expired: '#fd2', refused: '#f33', full: '#f33', wait: '#fd2', goodbye: '#3f3', pay: '#fd2', idle: '#3f3' };
const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const panels = shows
  .map(([caption, { outcome, values }]) => {
    const m = BUILT_IN['zh-CN'][outcome];
    const lines = [...m.lines, '', '', '', ''].slice(0, 4).map((l) => fitCells(render(l, values), 16));
    const voice = m.voice ? render(m.voice, values) : '';
    return `<figure><div class="led">${lines.map((l) => `<div style="color:${colour[outcome]}">${esc(l) || '&nbsp;'}</div>`).join('')}</div>
<figcaption>${esc(caption)}${voice ? `<br><span class="voice">语音 voice: ${esc(voice)}</span>` : ''}</figcaption></figure>`;
  })
  .join('');
const html = `<!doctype html><meta charset="utf-8"><style>
body { margin: 0; padding: 16px; background: #f4f4f5; font-family: "Noto Sans CJK SC", sans-serif; display: flex; gap: 14px; }
figure { margin: 0; width: 200px; }
.led { background: #111; border: 6px solid #444; border-radius: 6px; padding: 8px 6px; font: 20px/26px "Noto Sans Mono CJK SC", "Noto Sans CJK SC", monospace; letter-spacing: 0; text-align: center; text-shadow: 0 0 4px currentColor; }
figcaption { font-size: 13px; color: #333; margin-top: 6px; text-align: center; }
.voice { color: #666; font-size: 12px; }
</style>${panels}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1090, height: 230 }, deviceScaleFactor: 1 });
await page.setContent(html);
await page.screenshot({ path: fileURLToPath(new URL('../docs/images/lane-screen.png', import.meta.url)) });
await browser.close();
