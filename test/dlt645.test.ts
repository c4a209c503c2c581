import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DLT645_VALUE_NAMES } from '../devices/meter/index.js';
import { validateConfig } from '../config/load.js';
import { DLT645_VALUES, Dlt645Error, addressBytes, answers, decodeBcd, decodeValue, readRequest, scan, valueBytes } from '../drivers/dlt645/frame.js';
import { encode } from '../drivers/modbus/decode.js';
import type { GatewayEvent } from '../core/events.js';
import { readDlt645 } from '../devices/meter/meter.js';
import { runDoctor } from '../cli/commands/doctor.js';
import { GatewayError } from '../core/errors.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { until } from './peers/broker.js';
import { HAVE_SOCAT, PYTHON, RUN_PEER_TESTS, ptyPair, startModbusPeer } from './peers/modbus.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('DL/T 645-2007 frames', () => {
  it('builds the worked request of docs/vendors.md to the wildcard address, after the wake-up bytes', () => {
    expect(readRequest('AAAAAAAAAAAA', 0x00010000).toString('hex')).toBe(`fefefefe${'68aaaaaaaaaaaa681104333334 33ae16'.replace(/ /g, '')}`);
  });

  it('puts a meter number on the wire in BCD, lowest byte first, and refuses anything else', () => {
    expect(addressBytes('000012345678').toString('hex')).toBe('785634120000');
    expect(() => addressBytes('12345678')).toThrow(/12 digits/);
    expect(() => addressBytes('00001234567X')).toThrow(/12 digits/);
  });

  // An answer of meter 000012345678 to DI 00 01 00 00: 12345.67 kWh
  const reply = hex('68 78 56 34 12 00 00 68 91 08 33 33 34 33 9A 78 56 34');
  const withChecksum = (f: Buffer) => Buffer.concat([f, Buffer.from([f.reduce((a, b) => a + b, 0) & 0xff, 0x16])]);
  const good = withChecksum(reply);

  it('finds an answer after wake-up bytes and noise, takes the 0x33 off and reads the value', () => {
    const found = scan(Buffer.concat([hex('fe fe 00 13 68 01'), hex('fefefefe'), good]));
    expect(found.kind).toBe('frame');
    if (found.kind !== 'frame') return;
    expect(found.frame).toMatchObject({ address: '000012345678', control: 0x91 });
    expect(answers(found.frame, '000012345678', 0x00010000)).toBe(true);
    expect(answers(found.frame, '000012345678', 0x02010100)).toBe(false); // another DI
    expect(answers(found.frame, '000087654321', 0x00010000)).toBe(false); // another meter
    expect(answers(found.frame, 'AAAAAAAAAAAA', 0x00010000)).toBe(true);
    expect(decodeValue(DLT645_VALUES[0]!, valueBytes(found.frame, 0x00010000))).toBe(12345.67);
  });

  it('waits for the rest of a frame cut short, and steps over a bad checksum or end byte', () => {
    expect(scan(good.subarray(0, 15))).toEqual({ kind: 'incomplete', from: 0 });
    const badSum = Buffer.from(good);
    badSum[badSum.length - 2]! ^= 0xff;
    expect(scan(badSum).kind).toBe('incomplete');
    const badEnd = Buffer.from(good);
    badEnd[badEnd.length - 1] = 0x17;
    expect(scan(Buffer.concat([badEnd, good]))).toMatchObject({ kind: 'frame', end: badEnd.length + good.length });
  });

  it('turns an error answer into the meter refusal', () => {
    const refusal = withChecksum(hex('68 78 56 34 12 00 00 68 d1 01 35'));
    const found = scan(refusal);
    expect(found.kind).toBe('frame');
    if (found.kind !== 'frame') return;
    expect(answers(found.frame, '000012345678', 0x02800002)).toBe(true);
    expect(() => valueBytes(found.frame, 0x02800002)).toThrow(Dlt645Error);
    expect(() => valueBytes(found.frame, 0x02800002)).toThrow(/02800002.*no such data/);
  });

  it('decodes BCD with its decimals and sign bit, and refuses what is not BCD', () => {
    expect(decodeBcd(hex('00 23'), 1)).toBe(230);
    expect(decodeBcd(hex('00 50 80'), 3, true)).toBe(-5); // XXX.XXX with the sign bit set
    expect(decodeBcd(hex('00 05 80'), 3, true)).toBe(-0.5);
    expect(decodeBcd(hex('50 12 00'), 4, true)).toBe(0.125);
    expect(() => decodeBcd(hex('1a'), 0)).toThrow(/not a BCD value/);
  });

  it('reads past an RS485 adapter echoing the request, and leaves out a value the meter does not have', async () => {
    const meterA = (request: Buffer) => {
      const di = scan(request);
      if (di.kind !== 'frame') throw new Error('bad request');
      const id = di.frame.data.readUInt32LE(0);
      // 12345.67 kWh; no frequency (error 02)
      return id === 0x00010000 ? good : withChecksum(hex('68 78 56 34 12 00 00 68 d1 01 35'));
    };
    const bus = {
      // as the bus does: `take` sees what arrived; a refusal it throws becomes DLT645_REFUSED
      exchange: async <T>(_d: unknown, request: Buffer, take: (b: Buffer) => T | undefined) => {
        let answer: T | undefined;
        try {
          answer = take(Buffer.concat([request, hex('fe fe'), meterA(request)])); // echo first, then the meter
        } catch (err) {
          throw new GatewayError('DLT645_REFUSED', (err as Error).message);
        }
        if (answer === undefined) throw new Error('the answer was not found behind the echo');
        return answer;
      },
    };
    expect(await readDlt645(bus, '000012345678', ['energyImportKwh', 'frequencyHz'])).toEqual({
      values: { energyImportKwh: 12345.67 },
      refused: [{ names: ['frequencyHz'] }],
    });
    await expect(readDlt645(bus, '000012345678', ['frequencyHz'])).rejects.toThrow(/no such data/);
  });

  it('every value a config may name has a data identifier, and the other way round', () => {
    expect(DLT645_VALUES.map((v) => v.name).sort()).toEqual([...DLT645_VALUE_NAMES].sort());
  });
});

describe('DL/T 645 meters in the config', () => {
  const bus = { id: 'rs485-1', type: 'rtu', port: '/dev/ttyUSB0', baudRate: 2400, parity: 'even' };
  const check = (devices: unknown[], buses: unknown[] = [bus]) =>
    validateConfig({ site: { id: 's' }, gateway: { id: 'g', dataDir: '/tmp/eg-never-used' }, buses, devices });

  it('takes a meter number as quoted text or as the number YAML makes of it, zeros put back', () => {
    const r = check([{ id: 'm', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: 12345678 }]);
    expect(r.ok && r.config.devices[0]).toMatchObject({ address: '000012345678' });
  });

  it('names what is wrong: no address, a unit, a TCP bus, a clash with the wildcard', () => {
    const problems = (r: ReturnType<typeof check>) => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));
    expect(problems(check([{ id: 'm', type: 'meter', model: 'dlt645', bus: 'rs485-1' }]))).toEqual([
      'devices[0].address: required for model dlt645 (the 12-digit meter number)',
    ]);
    expect(problems(check([{ id: 'm', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: '000012345678', unit: 3 }])).join()).toMatch(
      /unit: only for Modbus meters/,
    );
    expect(
      problems(
        check([{ id: 'm', type: 'meter', model: 'dlt645', bus: 'tcp-1', address: '000012345678' }], [{ id: 'tcp-1', type: 'tcp', host: '10.0.0.9' }]),
      ).join(),
    ).toMatch(/need an RS485 \(rtu\) bus/);
    expect(
      problems(
        check([
          { id: 'a', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: 'AAAAAAAAAAAA' },
          { id: 'b', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: '000012345678' },
        ]),
      ).join(),
    ).toMatch(/devices\[1\]\.address: .*clashes with devices\[0\].*wildcard/);
    expect(problems(check([{ id: 'm', type: 'meter', model: 'sdm120', bus: 'rs485-1' }])).join()).toMatch(/unit: required for model sdm120/);
    expect(problems(check([{ id: 'm', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: '12-34' }])).join()).toMatch(/12-digit meter number/);
  });
});

const LINE = fileURLToPath(new URL('./peers/dlt645_line.py', import.meta.url));

/** The DL/T 645 meters of the line, with pymodbus behind it for the Modbus traffic. */
async function dltLine(spec: { meters: Record<string, Record<string, string>>; garbageEvery?: number }) {
  const near = await ptyPair();
  const far = await ptyPair();
  const child = spawn(PYTHON, [LINE, JSON.stringify({ gateway: near.b, modbus: far.a, ...spec })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const replies: Array<(r: { answered: number; spoiled: number }) => void> = [];
  await new Promise<void>((resolve) =>
    lines.on('line', (l) => {
      const msg = JSON.parse(l) as { ready?: boolean; answered: number; spoiled: number };
      if (msg.ready) resolve();
      else replies.shift()?.(msg);
    }),
  );
  return {
    gatewaySide: near.a,
    peerSide: far.b,
    send: (cmd: object) => new Promise<{ answered: number; spoiled: number }>((r) => (replies.push(r), child.stdin!.write(`${JSON.stringify(cmd)}\n`))),
    stop: async () => {
      child.kill('SIGKILL');
      await near.stop();
      await far.stop();
    },
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.runIf(RUN_PEER_TESTS && HAVE_SOCAT)('DL/T 645 meters and a Modbus meter on one RS485 line', () => {
  // value bytes as on the wire (BCD, lowest byte first), before the +0x33
  const METER_A = {
    '00010000': '67452301', // 12345.67 kWh
    '02010100': '0223', // 230.2 V
    '02020100': '508080', // XXX.XXX with the sign bit: -8.050 A (power flowing back)
    '02030000': '501200', // 0.1250 kW = 125 W
  };
  const METER_B = { '00010000': '00010000', '02010100': '9921', '02800002': '0050' }; // 1.00 kWh, 219.9 V, 50.00 Hz

  it('reads both protocols exactly, leaves out what a meter does not have, and survives stray bytes', async () => {
    const line = await dltLine({ meters: { '000012345678': METER_A, '000087654321': METER_B }, garbageEvery: 3 });
    cleanups.push(() => line.stop());
    const peer = await startModbusPeer({
      mode: 'rtu',
      device: line.peerSide,
      baud: 2400,
      units: { '7': { ir: { '0': encode(229.5, 'float32'), '72': encode(456.7, 'float32') } } },
    });
    cleanups.push(() => peer.stop());
    const config = siteConfig({
      buses: [{ id: 'rs485-1', type: 'rtu', port: line.gatewaySide, baudRate: 2400, parity: 'even', timeoutMs: 500, retries: 2 }],
      devices: [
        { id: 'm-a', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: '000012345678', intervalSec: 1 },
        {
          id: 'm-b',
          type: 'meter',
          model: 'dlt645',
          bus: 'rs485-1',
          address: '000087654321',
          intervalSec: 1,
          values: ['energyImportKwh', 'voltageL1V', 'frequencyHz', 'currentL1A'],
        },
        {
          id: 'm-modbus',
          type: 'meter',
          model: 'custom',
          bus: 'rs485-1',
          unit: 7,
          intervalSec: 1,
          registers: [
            { name: 'voltageV', address: 0, function: 4, type: 'float32' },
            { name: 'energyImportKwh', address: 72, function: 4, type: 'float32' },
          ],
        },
      ],
    });
    const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, journal: false });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const readings = (id: string) =>
      events.filter((e) => e.type === 'meter.reading' && e.device === id).map((e) => (e.data as { values: Record<string, number> }).values);
    await until('3 readings of each', () => ['m-a', 'm-b', 'm-modbus'].every((id) => readings(id).length >= 3), 20_000);
    for (const v of readings('m-a')) expect(v).toEqual({ energyImportKwh: 12345.67, voltageL1V: 230.2, currentL1A: -8.05, powerW: 125 });
    for (const v of readings('m-b')) expect(v).toEqual({ energyImportKwh: 1, voltageL1V: 219.9, frequencyHz: 50 }); // no current: the meter said "no such data"
    for (const v of readings('m-modbus')) expect(v).toEqual({ voltageV: 229.5, energyImportKwh: 456.7 });
    expect(events.filter((e) => e.type === 'device.fault')).toEqual([]);
    expect(gateway.buses.get('rs485-1')!.stats()).toMatchObject({ reconnects: 0 });
    expect((await line.send({ op: 'stats' })).spoiled).toBeGreaterThanOrEqual(5); // answers behind stray bytes, all read
  }, 40_000);

  it('a DL/T 645 meter that falls silent faults and is backed off on its own; the Modbus meter keeps its period; it recovers', async () => {
    const line = await dltLine({ meters: { '000012345678': METER_A } });
    cleanups.push(() => line.stop());
    const peer = await startModbusPeer({ mode: 'rtu', device: line.peerSide, baud: 2400, units: { '7': { ir: { '0': encode(229.5, 'float32') } } } });
    cleanups.push(() => peer.stop());
    const config = siteConfig({
      buses: [{ id: 'rs485-1', type: 'rtu', port: line.gatewaySide, baudRate: 2400, parity: 'even', timeoutMs: 300, retries: 1 }],
      devices: [
        { id: 'm-a', type: 'meter', model: 'dlt645', bus: 'rs485-1', address: '000012345678', intervalSec: 1, values: ['energyImportKwh'] },
        {
          id: 'm-modbus',
          type: 'meter',
          model: 'custom',
          bus: 'rs485-1',
          unit: 7,
          intervalSec: 1,
          registers: [{ name: 'voltageV', address: 0, function: 4, type: 'float32' }],
        },
      ],
    });
    const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, journal: false });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const of = (id: string, type: string) => events.filter((e) => e.type === type && e.device === id);
    await until('both reading', () => of('m-a', 'meter.reading').length > 0 && of('m-modbus', 'meter.reading').length > 0, 15_000);
    await line.send({ op: 'remove', address: '000012345678' });
    const removedAt = Date.now();
    await until('fault', () => of('m-a', 'device.fault').length > 0, 5000);
    expect((of('m-a', 'device.fault')[0]!.data as { message: string }).message).toMatch(/meter 000012345678: no answer/);
    await new Promise((r) => setTimeout(r, 4000));
    const during = of('m-modbus', 'meter.reading')
      .map((e) => Date.parse(e.time))
      .filter((t) => t >= removedAt);
    expect(during.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < during.length; i++) expect(during[i]! - during[i - 1]!).toBeLessThan(1700);
    expect(gateway.buses.get('rs485-1')!.stats().backedOff).toBeGreaterThan(0);
    await line.send({ op: 'restore', address: '000012345678' });
    await until('recovered', () => of('m-a', 'device.recovered').length > 0, 15_000);
  }, 40_000);

  it('the doctor reads a DL/T 645 meter live, and for one that does not answer names the nameplate number and the usual line settings', async () => {
    const line = await dltLine({ meters: { '000012345678': METER_A } });
    cleanups.push(() => line.stop());
    const dir = mkdtempSync(join(tmpdir(), 'eg-dlt-doctor-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      `site: { id: doc }
gateway: { id: gw-1, dataDir: ./data }
buses: [{ id: rs485-1, type: rtu, port: ${line.gatewaySide}, baudRate: 2400, parity: even, timeoutMs: 300, retries: 0 }]
devices:
  - { id: pump, type: meter, model: dlt645, bus: rs485-1, address: 000012345678 }
  - { id: ghost, type: meter, model: dlt645, bus: rs485-1, address: "000011112222" }
`,
    );
    const checks = Object.fromEntries(
      (await runDoctor({ configFile: file, log: silentLog, timeoutMs: 2000, clockCheck: () => ({ name: 'clock', result: 'ok', detail: 'test' }) })).map((c) => [
        c.name,
        c,
      ]),
    );
    expect(checks['meter pump']).toMatchObject({
      result: 'ok',
      detail: 'dlt645 meter number 000012345678: energyImportKwh=12345.67 voltageL1V=230.2 currentL1A=-8.05 powerW=125',
    });
    expect(checks['meter ghost']).toMatchObject({ result: 'FAIL' });
    expect(checks['meter ghost']!.detail).toMatch(/meter number 000011112222: .*meter 000011112222: no answer/);
    expect(checks['meter ghost']!.hint).toMatch(/number is 000011112222 \(on its nameplate\).*2400 baud, even parity/);
  }, 30_000);
});
