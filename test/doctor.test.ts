/**
 * `estate-gateway doctor` against live peers (pymodbus over TCP, mosquitto) and broken setups,
 * as the real CLI, and as the library beside a running gateway.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../drivers/modbus/decode.js';
import { runDoctor } from '../cli/commands/doctor.js';
import type { Check } from '../cli/commands/doctor.js';
import { Gateway } from '../gateway/main.js';
import { loadConfigFile } from '../config/load.js';
import { silentLog } from './helpers.js';
import { HAVE_MOSQUITTO, startMosquitto, until } from './peers/broker.js';
import { typeAsKeyboard } from '../drivers/readers/keyboard.js';
import { RUN_PEER_TESTS, freePort, startModbusPeer } from './peers/modbus.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const floats = (values: Record<number, number>) => Object.fromEntries(Object.entries(values).map(([a, v]) => [String(a), encode(v, 'float32')]));
const SDM120 = {
  ir: floats({
    0x0000: 230.1,
    0x0006: 5.5,
    0x000c: 1265.6,
    0x0012: 1270,
    0x0018: 90.5,
    0x001e: 0.99,
    0x0046: 50.01,
    0x0048: 12345.6,
    0x004a: 12.5,
    0x0156: 12358.1,
  }),
};
/** The same meter without its 0x0156 block (total kWh), as some units are. */
const SDM120_NO_TOTAL = {
  ir: floats({ 0x0000: 230.1, 0x0006: 5.5, 0x000c: 1265.6, 0x0012: 1270, 0x0018: 90.5, 0x001e: 0.99, 0x0046: 50.01, 0x0048: 12345.6, 0x004a: 12.5 }),
};
const synced = (): Check => ({ name: 'clock', result: 'ok', detail: 'synchronised (test)' });

function writeSite(dir: string, parts: { modbusPort: number; mqttPort: number; httpPort: number; unit?: number; maxBytes?: string }): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `site: { id: doc }
gateway: { id: gw-1, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${parts.mqttPort}" } }
storage: { maxBytes: ${parts.maxBytes ?? '100MB'} }
console: { listen: "127.0.0.1:${parts.httpPort}" }
io: [{ id: sim, type: sim }]
buses: [{ id: plant, type: tcp, host: 127.0.0.1, port: ${parts.modbusPort}, timeoutMs: 300, retries: 0 }]
devices:
  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, safetyLoop: { io: sim, pin: 2 } }
  - { id: cam, type: lpr-camera, vendor: generic, direction: in, lane: gate, allowFrom: [127.0.0.1] }
  - { id: pump, type: meter, model: sdm120, bus: plant, unit: ${parts.unit ?? 1} }
`,
  );
  return file;
}

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

describe.runIf((RUN_PEER_TESTS && HAVE_MOSQUITTO) || process.env.CI === 'true')('estate-gateway doctor', () => {
  async function peers() {
    const modbusPort = await freePort();
    const peer = await startModbusPeer({ mode: 'tcp', port: modbusPort, units: { '1': SDM120, '2': SDM120_NO_TOTAL } });
    cleanups.push(() => peer.stop());
    const mqttPort = await freePort();
    const broker = await startMosquitto(mqttPort);
    cleanups.push(() => broker.stop());
    return { modbusPort, mqttPort, httpPort: await freePort() };
  }

  it('passes a working site: a live meter read decoded, the broker reachable with rights, disk and clock', async () => {
    const ports = await peers();
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-'));
    const checks = byName(await runDoctor({ configFile: writeSite(dir, ports), log: silentLog, timeoutMs: 3000, clockCheck: synced }));
    expect(checks['config']!.result).toBe('ok');
    expect(checks['bus plant']).toMatchObject({ result: 'ok', detail: `tcp 127.0.0.1:${ports.modbusPort}` });
    expect(checks['board sim']).toMatchObject({ result: 'ok', detail: 'sim, 2 pins set up (1 outputs, 1 inputs)' });
    expect(checks['meter pump']).toMatchObject({ result: 'ok', detail: 'sdm120 unit 1: voltageV=230.1 currentA=5.5 powerW=1265.6 apparentPowerVA=1270' });
    expect(checks['broker']).toMatchObject({
      result: 'ok',
      detail: expect.stringContaining('subscribed to estate/doc/gw-1/cmd, published to estate/doc/gw-1/doctor'),
    });
    expect(checks['disk']!.result).toBe('ok');
    expect(checks['camera cam']).toMatchObject({ result: 'skip' });
  });

  it('names the register block a meter refuses, with the addressOverrides hint, and passes it as a warning', async () => {
    const ports = await peers();
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-'));
    const checks = byName(await runDoctor({ configFile: writeSite(dir, { ...ports, unit: 2 }), log: silentLog, timeoutMs: 3000, clockCheck: synced }));
    expect(checks['meter pump']).toMatchObject({
      result: 'warn',
      detail: 'sdm120 unit 2: voltageV=230.1 currentA=5.5 powerW=1265.6 apparentPowerVA=1270; refused FC04 0x0156-0x0157 (energyTotalKwh, exception 2)',
      hint: expect.stringContaining('addressOverrides: { energyTotalKwh: 0x'),
    });
  });

  it('as a command: a table with FAIL and a hint per failure, exit 1 (wrong unit, broker down, budget beyond the disk)', async () => {
    const ports = await peers();
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-'));
    const file = writeSite(dir, { ...ports, mqttPort: await freePort(), unit: 7, maxBytes: '100TB' });
    const child = spawn(process.execPath, [BIN, 'doctor', '--config', file, '--timeout', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(out).toMatch(/^CHECK\s+RESULT\s+DETAIL$/m);
    // a meter behind a TCP bus: the hint is about the unit id and the TCP gateway, not RS485 wiring
    expect(out).toMatch(
      /^meter pump\s+FAIL\s+sdm120 unit 7: .*\n\s+hint: check the meter's address is 7 \(the unit id the TCP gateway 127\.0\.0\.1:\d+ forwards to\)/m,
    );
    expect(out).not.toMatch(/A\/B are not swapped/);
    expect(out).toMatch(/^broker\s+FAIL\s+mqtt:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED.*\n\s+hint: the broker refuses connections/m);
    expect(out).toMatch(/^disk\s+FAIL\s+.*100000000 MB budget\n\s+hint: lower storage\.maxBytes to at most \d+ MB/m);
    expect(out).toMatch(/^bus plant\s+ok/m);
    expect(out).toMatch(/\d check\(s\) failed\n$/);
  }, 30_000);

  it('beside a running gateway: reports what the gateway sees, and a camera that never pushed', async () => {
    const ports = await peers();
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-'));
    const file = writeSite(dir, ports);
    const { config } = loadConfigFile(file);
    const gateway = new Gateway({ config, log: silentLog, version: 't' });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    await new Promise((r) => setTimeout(r, 500)); // the first meter read
    const before = byName(await runDoctor({ configFile: file, log: silentLog, timeoutMs: 3000, clockCheck: synced }));
    expect(before['service']!.result).toBe('ok');
    expect(before['board sim']).toMatchObject({ result: 'ok', detail: 'sim, online' });
    expect(before['meter pump']).toMatchObject({ result: 'ok' });
    expect(before['camera cam']).toMatchObject({ result: 'FAIL', hint: expect.stringContaining(`/lpr/cam`) });
    await fetch(`http://127.0.0.1:${ports.httpPort}/lpr/cam`, { method: 'POST', body: '{"heartbeat":true}', headers: { 'content-type': 'application/json' } });
    const after = byName(await runDoctor({ configFile: file, log: silentLog, timeoutMs: 3000, clockCheck: synced }));
    expect(after['camera cam']).toMatchObject({ result: 'ok', detail: expect.stringContaining('last push or heartbeat') });
  }, 30_000);

  it('an invalid config is exit 2 with the validate hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'site: { id: x }\ngateway: { id: g }\ndevices: [{ id: d, type: door }]\n');
    const child = spawn(process.execPath, [BIN, 'doctor', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((r) => child.once('exit', r))).toBe(2);
    expect(out).toMatch(/config\s+FAIL\s+\d problem\(s\), first: devices\[0\]\.\w+/);
    expect(out).toContain('hint: run estate-gateway validate --config');
  });
});

describe('doctor on credentials: the pass key, readers and terminals', () => {
  it('names a missing reader device and an unreadable pass key; beside the gateway, a reader or terminal that sent nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-doctor-cred-'));
    const fifo = join(dir, 'event-kbd');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(join(dir, 'pass.pem'), 'not a key');
    const httpPort = await freePort();
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      `site: { id: doc }
gateway: { id: gw-1, dataDir: ./data }
console: { listen: "127.0.0.1:${httpPort}" }
io: [{ id: sim, type: sim }]
access: { passes: { publicKey: ${join(dir, 'pass.pem')} } }
devices:
  - { id: door-a, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }
  - { id: qr-a, type: reader, door: door-a, keyboard: ${fifo} }
  - { id: card-a, type: reader, door: door-a, port: ${join(dir, 'ttyUSB9')} }
  - { id: face-a, type: access-terminal, vendor: hikvision, allowFrom: [127.0.0.1] }
`,
    );
    const offline = byName(await runDoctor({ configFile: file, log: silentLog, timeoutMs: 2000, clockCheck: synced }));
    expect(offline['pass key']).toMatchObject({ result: 'FAIL', hint: expect.stringContaining('every QR pass is refused') });
    expect(offline['reader qr-a']).toMatchObject({ result: 'ok', detail: `${fifo} is there and readable` });
    expect(offline['reader card-a']).toMatchObject({
      result: 'FAIL',
      detail: expect.stringContaining('missing'),
      hint: expect.stringContaining('/dev/serial/by-id/'),
    });
    expect(offline['terminal face-a']).toMatchObject({ result: 'skip', hint: expect.stringContaining('/acs/face-a') });

    const { config } = loadConfigFile(file);
    const gateway = new Gateway({ config, log: silentLog, version: 't' });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const kbd = openSync(fifo, 'r+');
    cleanups.push(() => closeSync(kbd));
    await until('reader open', () => gateway.devices.get('qr-a')!.snapshot()['open'] === true);
    const waiting = byName(await runDoctor({ configFile: file, log: silentLog, timeoutMs: 2000, clockCheck: synced }));
    expect(waiting['reader qr-a']).toMatchObject({ result: 'warn', detail: expect.stringContaining('has sent nothing') });
    expect(waiting['reader card-a']).toMatchObject({ result: 'FAIL', detail: expect.stringContaining('ttyUSB9') });
    expect(waiting['terminal face-a']).toMatchObject({ result: 'FAIL', detail: expect.stringContaining('nothing received') });

    writeSync(kbd, typeAsKeyboard('12345678'));
    await until('read', () => gateway.devices.get('qr-a')!.snapshot()['lastReadAt'] !== null);
    await fetch(`http://127.0.0.1:${httpPort}/acs/face-a`, {
      method: 'POST',
      body: '{"eventType":"heartBeat"}',
      headers: { 'content-type': 'application/json' },
    });
    const after = byName(await runDoctor({ configFile: file, log: silentLog, timeoutMs: 2000, clockCheck: synced }));
    expect(after['reader qr-a']).toMatchObject({ result: 'ok', detail: expect.stringContaining('last read') });
    expect(after['terminal face-a']).toMatchObject({ result: 'ok' });
  }, 30_000);
});
