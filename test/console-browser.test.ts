/**
 * The console in a real browser: Debian's chromium, headless, driven by playwright-core, on a
 * phone-sized screen. Logs in, opens a gate, sees the event arrive live, lets a visitor in,
 * switches language, and saves screenshots to test-output/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../drivers/modbus/decode.js';
import { UserStore } from '../http/users.js';
import type { Harness } from './helpers.js';
import { startGateway } from './helpers.js';
import type { ModbusPeer } from './peers/modbus.js';
import { RUN_PEER_TESTS, freePort, startModbusPeer } from './peers/modbus.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../test-output/', import.meta.url));

describe.runIf(existsSync(CHROMIUM) || process.env.CI === 'true')('the console in chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;
  let peer: ModbusPeer | undefined;

  beforeAll(async () => {
    // A meter on a real Modbus peer, when pymodbus is here (CI installs it).
    const meter: Record<string, unknown> = {};
    if (RUN_PEER_TESTS) {
      const port = await freePort();
      peer = await startModbusPeer({ mode: 'tcp', port, units: { '1': { ir: { '0': encode(230.1, 'float32'), '6': encode(5.5, 'float32'), '12': encode(1265.6, 'float32') } } } });
      meter['buses'] = [{ id: 'plant', type: 'tcp', host: '127.0.0.1', port }];
      meter['meter'] = { id: 'meter-pump', type: 'meter', model: 'custom', bus: 'plant', unit: 1, intervalSec: 1, registers: [{ name: 'voltageV', address: 0, function: 4, type: 'float32' }, { name: 'currentA', address: 6, function: 4, type: 'float32' }, { name: 'powerW', address: 12, function: 4, type: 'float32' }] };
    }
    h = await startGateway(
      {
        ...(meter['buses'] ? { buses: meter['buses'] } : {}),
        devices: [
          ...(meter['meter'] ? [meter['meter']] : []),
          { id: 'door-lobby', name: '大堂门 Lobby door', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-safe' },
          { id: 'gate-north', name: '北门道闸 North gate', type: 'barrier', open: { io: 'sim', pin: 5 }, safetyLoop: { io: 'sim', pin: 13 } },
          { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate-north', allowFrom: ['127.0.0.1'] },
        ],
        access: { visitors: 'ask' },
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
    await peer?.stop();
  });

  it('logs in, opens a gate, sees the event live, lets a visitor in, switches language', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(base);
    await page.getByPlaceholder('用户名').fill('guard');
    await page.getByPlaceholder('密码').fill('wrong-password');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.locator('#login-msg').textContent()).toBe('用户名或密码错误');
    await page.getByPlaceholder('密码').fill('guard-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    const gate = page.locator('#dev-gate-north');
    await gate.waitFor();
    expect(await gate.locator('h3').textContent()).toBe('北门道闸 North gate');

    await gate.getByRole('button', { name: '抬杆' }).click();
    await page.locator('#events li', { hasText: 'gate-north barrier.opened' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#events li').first().textContent()).toContain('console · guard');
    expect(h.board.historyOf(5).map(([, v]) => v).slice(0, 2)).toEqual([0, 1]); // the OPEN pulse
    await expect.poll(() => gate.locator('.state').textContent()).toContain('已打开');

    // a visitor read by the camera waits for the guard
    await fetch(`${base}/lpr/cam`, { method: 'POST', body: '{"plate":"粤A77777"}', headers: { 'content-type': 'application/json' } });
    const visitor = page.locator('.visitor', { hasText: '粤A77777' });
    await visitor.waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${OUT}console-zh.png`, fullPage: true });
    await visitor.getByRole('button', { name: '放行' }).click();
    await visitor.waitFor({ state: 'detached', timeout: 5000 });
    await page.locator('#events li', { hasText: 'vehicle.decided' }).waitFor({ timeout: 5000 });

    // a meter's tile follows its readings live
    if (peer) {
      const tile = page.locator('#dev-meter-pump');
      await expect.poll(() => tile.locator('.state').textContent(), { timeout: 5000 }).toContain('voltageV 230.1');
      await peer.send({ op: 'set', unit: 1, table: 'ir', address: 0, values: encode(231.7, 'float32') });
      await expect.poll(() => tile.locator('.state').textContent(), { timeout: 5000 }).toContain('voltageV 231.7');
    }

    // English, remembered across a reload
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#tab-main').textContent()).toBe('Devices');
    await page.reload();
    await page.locator('#dev-gate-north').waitFor();
    expect(await page.locator('#dev-gate-north button.open').textContent()).toBe('Open');
    expect(await page.locator('#lang').textContent()).toBe('中文');
    await page.screenshot({ path: `${OUT}console-en.png`, fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});
