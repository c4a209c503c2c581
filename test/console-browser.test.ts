/**
 * The console in a real browser: Debian's chromium, headless, driven by playwright-core, on a
 * phone-sized screen. Logs in, opens a gate, sees the event arrive live, lets a visitor in,
 * switches language, and saves screenshots to test-output/.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPass } from '../access/passes.js';
import { typeAsKeyboard } from '../drivers/readers/keyboard.js';
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
  // a keyboard-mode pass reader at the lobby door (a FIFO of key records), and the platform's pass key
  const dir = mkdtempSync(join(tmpdir(), 'eg-console-'));
  const kbdPath = join(dir, 'event-kbd');
  const keys = generateKeyPairSync('ed25519');
  let kbd: number | undefined;

  beforeAll(async () => {
    // A meter on a real Modbus peer, when pymodbus is here (CI installs it).
    const meter: Record<string, unknown> = {};
    if (RUN_PEER_TESTS) {
      const port = await freePort();
      peer = await startModbusPeer({
        mode: 'tcp',
        port,
        units: { '1': { ir: { '0': encode(230.1, 'float32'), '6': encode(5.5, 'float32'), '12': encode(1265.6, 'float32') } } },
      });
      meter['buses'] = [{ id: 'plant', type: 'tcp', host: '127.0.0.1', port }];
      meter['meter'] = {
        id: 'meter-pump',
        type: 'meter',
        model: 'custom',
        bus: 'plant',
        unit: 1,
        intervalSec: 1,
        registers: [
          { name: 'voltageV', address: 0, function: 4, type: 'float32' },
          { name: 'currentA', address: 6, function: 4, type: 'float32' },
          { name: 'powerW', address: 12, function: 4, type: 'float32' },
        ],
      };
    }
    execFileSync('mkfifo', [kbdPath]);
    writeFileSync(join(dir, 'platform.pub.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    h = await startGateway(
      {
        ...(meter['buses'] ? { buses: meter['buses'] } : {}),
        devices: [
          ...(meter['meter'] ? [meter['meter']] : []),
          {
            id: 'door-lobby',
            name: '大堂门 Lobby door',
            type: 'door',
            lock: { io: 'sim', pin: 1 },
            lockType: 'fail-safe',
            contact: { io: 'sim', pin: 2, debounceMs: 0 },
          },
          { id: 'fence', name: '围墙 Fence', type: 'alarm-input', kind: 'perimeter', input: { io: 'sim', pin: 3 } },
          { id: 'gate-north', name: '北门道闸 North gate', type: 'barrier', open: { io: 'sim', pin: 5 }, safetyLoop: { io: 'sim', pin: 13 } },
          { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate-north', allowFrom: ['127.0.0.1'] },
          { id: 'qr-lobby', name: '大堂读头 Lobby reader', type: 'reader', door: 'door-lobby', keyboard: kbdPath },
          { id: 'face-lobby', name: '大堂人脸机 Lobby face', type: 'access-terminal', vendor: 'hikvision', allowFrom: ['127.0.0.1'] },
        ],
        access: { visitors: 'ask', passes: { publicKey: join(dir, 'platform.pub.pem') } },
        fireAlarm: { input: { io: 'sim', pin: 20, debounceMs: 0 } },
        site: { id: 'music-square', name: '音乐广场小区' },
      },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    base = `http://127.0.0.1:${h.gateway.address!.port}`;
    await new UserStore(h.config.gateway.dataDir).add('guard', 'staff', 'guard-password-1');
    await new UserStore(h.config.gateway.dataDir).add('ian', 'installer', 'installer-password-1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    mkdirSync(OUT, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (kbd !== undefined) closeSync(kbd);
    await h?.gateway.stop();
    await peer?.stop();
  });

  /** Visible text that is a code, not a word: a key path (states.normal), an event type (door.forced) or a fault code. */
  const rawKeys = (text: string) => [...text.matchAll(/\b(?:[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*|[A-Z]{2,}_[A-Z_]+)\b/g)].map((m) => m[0]);

  it('logs in, opens a gate, sees the event live, lets a visitor in, switches language, with no raw key in either', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    // a 401 is the API's answer before login and to a wrong password, a 400 to the refused action
    // below: anything else is a problem (a missing file, a script error)
    page.on('console', (m) => void (m.type() === 'error' && !/status of 40[01]/.test(m.text()) && problems.push(m.text())));
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
    expect(await page.locator('#site').textContent()).toBe('音乐广场小区');
    expect(await page.locator('#tabs').isHidden()).toBe(true); // a staff user has one tab: no tab bar

    await gate.getByRole('button', { name: '抬杆' }).click();
    const opened = page.locator('#events li', { hasText: '道闸抬杆' });
    await opened.waitFor({ timeout: 5000 });
    expect(await opened.first().textContent()).toContain('北门道闸 North gate');
    expect(await opened.first().textContent()).toContain('值班台 · guard');
    expect(
      h.board
        .historyOf(5)
        .map(([, v]) => v)
        .slice(0, 2),
    ).toEqual([0, 1]); // the OPEN pulse
    await expect.poll(() => gate.locator('.state').textContent()).toContain('已抬杆');
    // a refused action is said beside its button, not in a browser dialog
    page.on('dialog', (d) => {
      problems.push(`a browser dialog: ${d.message()}`);
      void d.dismiss();
    });
    await gate.getByRole('button', { name: '落杆' }).click(); // this barrier closes by itself: it has no CLOSE output
    await expect.poll(() => gate.locator('.refused').textContent()).toBe('不支持此操作');
    await page.screenshot({ path: `${OUT}console-zh-phone-refused.png` });

    // a visitor read by the camera waits for the guard
    await fetch(`${base}/lpr/cam`, { method: 'POST', body: '{"plate":"粤A77777"}', headers: { 'content-type': 'application/json' } });
    const visitor = page.locator('.visitor', { hasText: '粤A77777' });
    await visitor.waitFor({ timeout: 5000 });
    await visitor.getByRole('button', { name: '放行' }).click();
    await visitor.waitFor({ state: 'detached', timeout: 5000 });
    await page.locator('#events li', { hasText: '访客处理' }).waitFor({ timeout: 5000 });

    // someone forces the lobby door: the card says so, not only "locked"
    h.board.setInput(2, 1);
    const door = page.locator('#dev-door-lobby');
    await expect.poll(() => door.textContent(), { timeout: 5000 }).toContain('被强行打开');
    expect(await door.textContent()).toContain('门已打开');
    await page.locator('#events li', { hasText: '门被强行打开' }).waitFor({ timeout: 5000 });

    // a visitor shows a QR pass at the lobby reader; a face the terminal does not know is refused there
    kbd = openSync(kbdPath, 'r+');
    const now = Math.floor(Date.now() / 1000);
    writeSync(
      kbd,
      typeAsKeyboard(signPass({ id: 'v-20261201-7', doors: ['door-lobby'], from: now - 60, until: now + 7200, uses: 2, name: '李四' }, keys.privateKey)),
    );
    await page.locator('#events li', { hasText: '访客二维码' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#events li', { hasText: '访客二维码' }).first().textContent()).toContain('剩余 1 次');
    await expect.poll(() => page.locator('#passes').textContent(), { timeout: 5000 }).toContain('李四');
    expect(await page.locator('#passes').textContent()).toContain('剩余 1 次');
    const face = {
      eventType: 'AccessControllerEvent',
      dateTime: '2026-12-01T10:00:00+08:00',
      AccessControllerEvent: { majorEventType: 5, subEventType: 76, currentVerifyMode: 'cardOrFace' },
    };
    await fetch(`${base}/acs/face-lobby`, { method: 'POST', body: JSON.stringify(face), headers: { 'content-type': 'application/json' } });
    const refusal = page.locator('#events li', { hasText: '拒绝开门' });
    await refusal.waitFor({ timeout: 5000 });
    expect(await refusal.first().textContent()).toContain('终端拒绝');
    expect(await refusal.first().textContent()).toContain('人脸');

    // a meter's tile follows its readings live, with units
    if (peer) {
      const tile = page.locator('#dev-meter-pump');
      await expect.poll(() => tile.locator('.values').textContent(), { timeout: 5000 }).toContain('电压230.1 V');
      await peer.send({ op: 'set', unit: 1, table: 'ir', address: 0, values: encode(231.7, 'float32') });
      await expect.poll(() => tile.locator('.values').textContent(), { timeout: 5000 }).toContain('231.7 V');
    }
    await page.screenshot({ path: `${OUT}console-zh-phone.png`, fullPage: true });
    expect(rawKeys(await page.locator('body').innerText())).toEqual([]);

    // English re-renders everything at once, and is remembered across a reload
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#dev-gate-north button.open').textContent()).toBe('Open');
    expect(await page.locator('#events').textContent()).toContain('Door forced open');
    expect(await page.locator('#dev-door-lobby').textContent()).toContain('FORCED OPEN');
    expect(await page.locator('#events').textContent()).toContain('refused by the terminal');
    expect(await page.locator('#passes').textContent()).toContain('1 use left');
    await page.reload();
    await page.locator('#dev-gate-north').waitFor();
    expect(await page.locator('#lang').textContent()).toBe('中文');
    await page.locator('#events li', { hasText: 'Door forced open' }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${OUT}console-en-phone.png`, fullPage: true });
    expect(rawKeys(await page.locator('body').innerText())).toEqual([]);

    // the fire alarm is a banner on every page
    h.board.setInput(20, 1);
    await expect.poll(() => page.locator('#fire').isVisible(), { timeout: 8000 }).toBe(true);
    expect(await page.locator('#fire').textContent()).toBe('FIRE ALARM: every door and lane released');

    // a desktop uses the width
    const desk = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
    desk.on('pageerror', (err) => problems.push(err.message));
    await desk.goto(base);
    await desk.getByPlaceholder('用户名').waitFor();
    await expect.poll(() => desk.locator('#fire').isVisible(), { timeout: 8000 }).toBe(true); // the login page too
    await desk.getByPlaceholder('用户名').fill('guard');
    await desk.getByPlaceholder('密码').fill('guard-password-1');
    await desk.getByRole('button', { name: '登录' }).click();
    await desk.locator('#dev-gate-north').waitFor();
    await desk.locator('#events li', { hasText: '门被强行打开' }).waitFor({ timeout: 5000 });
    const devicesBox = await desk.locator('#devices').boundingBox();
    const eventsBox = await desk.locator('#events').boundingBox();
    expect(devicesBox!.width).toBeGreaterThan(700);
    expect(eventsBox!.x).toBeGreaterThan(devicesBox!.x + devicesBox!.width - 1); // events beside the devices, not below
    await desk.screenshot({ path: `${OUT}console-zh-desktop.png`, fullPage: true });
    expect(rawKeys(await desk.locator('body').innerText())).toEqual([]);
    await desk.getByRole('button', { name: 'English' }).click();
    await desk.screenshot({ path: `${OUT}console-en-desktop.png`, fullPage: true });
    expect(rawKeys(await desk.locator('body').innerText())).toEqual([]);
    h.board.setInput(20, 0);
    expect(problems).toEqual([]);
  }, 60_000);

  it("the installer's I/O page on a phone: every pin named in the page's language, headers on one line", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
    await page.goto(base);
    await page.getByPlaceholder('用户名').fill('ian');
    await page.getByPlaceholder('密码').fill('installer-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('button', { name: '调试 I/O' }).click();
    const table = page.locator('#io-tab table.pins').first();
    await table.waitFor();
    await expect.poll(() => table.textContent()).toContain('门锁');
    const text = (await page.locator('#io-tab').innerText()) ?? '';
    expect(text).toContain('大堂门 Lobby door · 门磁');
    expect(text).toContain('北门道闸 North gate · 地感');
    expect(text).not.toMatch(/\b(lock|contact|safetyLoop|trigger|buzzer|exitButton)\b/);
    expect(rawKeys(text)).toEqual([]);
    const header = await table.locator('th').first().boundingBox();
    expect(header!.height).toBeLessThan(32); // one line, not a character per line
    await page.screenshot({ path: `${OUT}console-zh-phone-io.png`, fullPage: true });
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => table.textContent()).toContain('lock');
    await page.screenshot({ path: `${OUT}console-en-phone-io.png`, fullPage: true });
  }, 30_000);
});
