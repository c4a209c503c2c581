/**
 * The car park on the console, in Debian's chromium on a phone-sized screen: spaces left, live;
 * a guard corrects a count that drifted; a blocked car refused at the gate raises a banner that
 * stays until acknowledged; the lane's card says what its screen shows. Both languages, no raw
 * key. Screenshots in test-output/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../http/users.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../test-output/', import.meta.url));

describe.runIf(existsSync(CHROMIUM) || process.env.CI === 'true')('the car park on the console (chromium)', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    h = await startGateway(
      {
        devices: [
          { id: 'gate-north', name: '北门道闸 North gate', type: 'barrier', open: { io: 'sim', pin: 5 }, display: { camera: 'cam-in' } },
          {
            id: 'cam-in',
            name: '北门入口相机',
            type: 'lpr-camera',
            vendor: 'vzenith',
            direction: 'in',
            lane: 'gate-north',
            allowFrom: ['127.0.0.1'],
            repeatWindowSec: 0,
          },
        ],
        access: {
          visitors: 'record',
          carParks: [{ id: 'north', name: '北区停车场 North car park', capacity: 1, lanes: ['gate-north'] }],
          plates: [{ plate: '粤B66666', class: 'blocked' }],
        },
      },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    base = `http://127.0.0.1:${h.gateway.address!.port}`;
    await new UserStore(h.config.gateway.dataDir).add('guard', 'staff', 'guard-password-1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    mkdirSync(OUT, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.gateway.stop();
  });

  const push = (plate: string) =>
    fetch(`${base}/lpr/cam-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AlarmInfoPlate: { channel: 0, result: { PlateResult: { license: plate, confidence: 96, plateid: 1 } } } }),
    });
  const rawKeys = (text: string) => [...text.matchAll(/\b(?:[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*|[A-Z]{2,}_[A-Z_]+)\b/g)].map((m) => m[0]);

  it('shows spaces live, takes a correction, and raises a blocked car until acknowledged', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => void (m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text())));
    await page.goto(base);
    await page.getByPlaceholder('用户名').fill('guard');
    await page.getByPlaceholder('密码').fill('guard-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    const park = page.locator('#park-north');
    await park.waitFor();
    expect(await park.textContent()).toContain('1 余位');

    // a visitor takes the one space: the card says full, live
    expect((await push('粤A12345')).status).toBe(200);
    await expect.poll(() => park.textContent()).toContain('0 余位已满');
    const gate = page.locator('#dev-gate-north');
    await expect.poll(() => gate.textContent()).toContain('车道屏: 粤A12345 / 临时车 / 欢迎光临');

    // the guard counts the car park and finds it empty: corrects it
    await park.getByRole('button', { name: '校正' }).click();
    await park.locator('input').fill('0');
    await park.getByRole('button', { name: '校正' }).click();
    await expect.poll(() => park.textContent()).toContain('1 余位');
    expect(h.gateway.access.carParks.state('north')).toMatchObject({ used: 0, free: 1 });
    expect(h.events.filter((e) => e.type === 'car-park.corrected').map((e) => [e.device, e.data])).toEqual([
      ['north', { carPark: 'north', used: 0, was: 1, capacity: 1, by: 'console', user: 'guard' }],
    ]);
    await expect.poll(() => page.locator('#events li', { hasText: '车位校正' }).first().textContent()).toContain('1 → 0 / 1');

    // a blocked car: a banner on top until acknowledged
    await push('粤B66666');
    const banner = page.locator('.alert-banner');
    await banner.waitFor({ timeout: 5000 });
    expect(await banner.textContent()).toContain('黑名单车辆 粤B66666 在 北门道闸 North gate 被拒绝');
    expect(await page.locator('#events li.alert', { hasText: '黑名单' }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${OUT}console-zh-phone-car-park.png`, fullPage: true });
    expect(rawKeys((await page.locator('body').innerText()) ?? '')).toEqual([]);
    await banner.getByRole('button', { name: '知道了' }).click();
    await expect.poll(() => banner.count()).toBe(0);

    await page.locator('#lang').click();
    await expect.poll(() => park.textContent()).toContain('1 spaces left');
    await push('粤B66666');
    await page.locator('.alert-banner').waitFor({ timeout: 5000 });
    expect(await page.locator('.alert-banner').textContent()).toContain('Blocked car 粤B66666 refused at 北门道闸 North gate');
    await page.screenshot({ path: `${OUT}console-en-phone-car-park.png`, fullPage: true });
    expect(rawKeys((await page.locator('body').innerText()) ?? '')).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
