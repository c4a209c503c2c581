import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../drivers/modbus/decode.js';
import type { GatewayEvent } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { until } from './peers/broker.js';
import { RUN_PEER_TESTS, freePort, startModbusPeer } from './peers/modbus.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Sparse register blocks as a meter holds them: each float32 at its address, holes between. */
function floats(values: Record<number, number>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(values).map(([a, v]) => [String(a), encode(v, 'float32')]));
}

const UNITS = {
  '1': {
    ir: floats({
      0x0000: 230.1,
      0x0002: 231.2,
      0x0004: 229.9,
      0x0006: 5.5,
      0x0008: 6.25,
      0x000a: 7,
      0x000c: 1265.6,
      0x000e: 1445,
      0x0010: 1609.3,
      0x0034: 4319.9,
      0x0046: 50.01,
      0x0048: 12345.6,
      0x004a: 12.5,
      0x0156: 12358.1,
    }),
  },
  '2': {
    ir: floats({ 0x0000: 229.5, 0x0006: 3.2, 0x000c: 734.4, 0x0012: 740, 0x0018: 90.5, 0x001e: 0.99, 0x0046: 49.98, 0x0048: 456.7, 0x004a: 0, 0x0156: 456.7 }),
  },
  '3': { ir: floats({ 0x2000: 220.3, 0x2002: 4.5, 0x2004: 0.9914, 0x2006: 0.1, 0x200a: 0.98, 0x200e: 50, 0x4000: 789.01, 0x400a: 1.5 }) },
  '5': { hr: { '10': [0xff83], '11': encode(70000, 'uint32', 'CDAB') } },
  '6': {
    hr: {
      ...floats({
        0x2006: 2301,
        0x2008: 2312,
        0x200a: 2299,
        0x200c: 5500,
        0x200e: 6250,
        0x2010: 7000,
        0x2012: 43199,
        0x2014: 12656,
        0x2016: 14450,
        0x2018: 16093,
        0x2044: 5001,
      }),
      ...floats({ 0x101e: 9876.5, 0x1028: 4.5 }),
    },
  },
  // An SDM630 without the 0x0156 block (total kWh), as some units are.
  '7': {
    ir: floats({
      0x0000: 230.1,
      0x0002: 231.2,
      0x0004: 229.9,
      0x0006: 5.5,
      0x0008: 6.25,
      0x000a: 7,
      0x000c: 1265.6,
      0x000e: 1445,
      0x0010: 1609.3,
      0x0034: 4319.9,
      0x0046: 50.01,
      0x0048: 12345.6,
      0x004a: 12.5,
    }),
  },
  // A DDSU666 whose firmware answers holding registers (FC03) only.
  '9': { hr: floats({ 0x2000: 220.3, 0x2002: 4.5, 0x2004: 0.9914, 0x2006: 0.1, 0x200a: 0.98, 0x200e: 50, 0x4000: 789.01, 0x400a: 1.5 }) },
  '10': { hr: floats({ 0x2000: 220.3, 0x2002: 4.5, 0x2004: 0.9914, 0x2006: 0.1, 0x200a: 0.98, 0x200e: 50, 0x4000: 789.01, 0x400a: 1.5 }) },
  '4': {
    hr: floats({
      0x2006: 2301,
      0x2008: 2312,
      0x200a: 2299,
      0x200c: 5500,
      0x200e: 6250,
      0x2010: 7000,
      0x2012: 43199,
      0x2014: 12656,
      0x2016: 14450,
      0x2018: 16093,
      0x2044: 5001,
      0x401e: 2345.5,
      0x4028: 3.25,
    }),
  },
};

async function site(devices: unknown[], busExtra: Record<string, unknown> = {}) {
  const port = await freePort();
  const peer = await startModbusPeer({ mode: 'tcp', port, units: UNITS });
  cleanups.push(() => peer.stop());
  const config = siteConfig({ buses: [{ id: 'plant', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 300, retries: 1, ...busExtra }], devices });
  const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, journal: false });
  const events: GatewayEvent[] = [];
  gateway.eventBus.on('event', 'test', (e) => void events.push(e));
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { gateway, events, peer };
}

const meter = (id: string, model: string, unit: number, extra = {}) => ({ id, type: 'meter', model, bus: 'plant', unit, intervalSec: 1, ...extra });
const readingsOf = (events: GatewayEvent[], id: string) => events.filter((e) => e.type === 'meter.reading' && e.device === id);

describe.runIf(RUN_PEER_TESTS)('meters against a pymodbus peer', () => {
  it('decodes every built-in template exactly, with its scaling', async () => {
    const { events } = await site([
      meter('m-sdm630', 'sdm630', 1),
      meter('m-sdm120', 'sdm120', 2),
      meter('m-ddsu', 'ddsu666', 3),
      meter('m-dtsu', 'dtsu666', 4),
    ]);
    await until('a reading from each', () => ['m-sdm630', 'm-sdm120', 'm-ddsu', 'm-dtsu'].every((id) => readingsOf(events, id).length > 0), 10_000);
    const values = (id: string) => (readingsOf(events, id)[0]!.data as { values: Record<string, number> }).values;
    expect(values('m-sdm630')).toEqual({
      voltageL1V: 230.1,
      voltageL2V: 231.2,
      voltageL3V: 229.9,
      currentL1A: 5.5,
      currentL2A: 6.25,
      currentL3A: 7,
      powerL1W: 1265.6,
      powerL2W: 1445,
      powerL3W: 1609.3,
      powerW: 4319.9,
      frequencyHz: 50.01,
      energyImportKwh: 12345.6,
      energyExportKwh: 12.5,
      energyTotalKwh: 12358.1,
    });
    expect(values('m-sdm120')).toEqual({
      voltageV: 229.5,
      currentA: 3.2,
      powerW: 734.4,
      apparentPowerVA: 740,
      reactivePowerVar: 90.5,
      powerFactor: 0.99,
      frequencyHz: 49.98,
      energyImportKwh: 456.7,
      energyExportKwh: 0,
      energyTotalKwh: 456.7,
    });
    expect(values('m-ddsu')).toEqual({
      voltageV: 220.3,
      currentA: 4.5,
      powerW: 991.4,
      reactivePowerVar: 100,
      powerFactor: 0.98,
      frequencyHz: 50,
      energyImportKwh: 789.01,
      energyExportKwh: 1.5,
    });
    expect(values('m-dtsu')).toEqual({
      voltageL1V: 230.1,
      voltageL2V: 231.2,
      voltageL3V: 229.9,
      currentL1A: 5.5,
      currentL2A: 6.25,
      currentL3A: 7,
      powerW: 4319.9,
      powerL1W: 1265.6,
      powerL2W: 1445,
      powerL3W: 1609.3,
      frequencyHz: 50.01,
      energyImportKwh: 2345.5,
      energyExportKwh: 3.25,
    });
    expect(events.filter((e) => e.type === 'device.fault')).toEqual([]); // no read ever crossed a hole
  });

  it('reads a custom map with word orders, and moves a template value by addressOverrides', async () => {
    const { events, peer } = await site([
      meter('m-custom', 'custom', 5, {
        registers: [
          { name: 'temperatureC', address: 10, function: 3, type: 'int16', scale: 0.1 },
          { name: 'pulsesCount', address: 11, function: 3, type: 'uint32', wordOrder: 'CDAB' },
        ],
      }),
      meter('m-dtsu-old', 'dtsu666', 6, { addressOverrides: { energyImportKwh: 0x101e, energyExportKwh: 0x1028 } }),
    ]);
    void peer;
    await until('readings', () => readingsOf(events, 'm-custom').length > 0 && readingsOf(events, 'm-dtsu-old').length > 0, 10_000);
    expect((readingsOf(events, 'm-custom')[0]!.data as { values: unknown }).values).toEqual({ temperatureC: -12.5, pulsesCount: 70000 });
    expect((readingsOf(events, 'm-dtsu-old')[0]!.data as { values: Record<string, number> }).values).toMatchObject({
      energyImportKwh: 9876.5,
      energyExportKwh: 4.5,
    });
  }, 20_000);

  it('a unit removed mid-run faults on its own while another meter keeps its period, and recovers', async () => {
    const { events, peer } = await site([meter('m-a', 'sdm630', 1), meter('m-b', 'sdm120', 2)]);
    await until('both reading', () => readingsOf(events, 'm-a').length > 0 && readingsOf(events, 'm-b').length > 0, 10_000);
    await peer.send({ op: 'remove', unit: 2 });
    const removedAt = Date.now();
    await until('fault', () => events.some((e) => e.type === 'device.fault' && e.device === 'm-b'), 5000);
    await new Promise((r) => setTimeout(r, 4000));
    const during = readingsOf(events, 'm-a')
      .filter((e) => Date.parse(e.time) >= removedAt)
      .map((e) => Date.parse(e.time));
    expect(during.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < during.length; i++) expect(during[i]! - during[i - 1]!).toBeLessThan(1700);
    await peer.send({ op: 'restore', unit: 2 });
    await until('recovered', () => events.some((e) => e.type === 'device.recovered' && e.device === 'm-b'), 15_000);
    expect(events.filter((e) => e.device === 'm-b' && e.type.startsWith('device.')).map((e) => [e.type, (e.data as { code: string }).code])).toEqual([
      ['device.fault', 'MODBUS_TIMEOUT'],
      ['device.recovered', 'MODBUS_TIMEOUT'],
    ]);
  }, 30_000);

  it('a meter that refuses one block keeps publishing the rest, names what is missing, and faults only when nothing reads', async () => {
    const { events } = await site([
      meter('m-no0156', 'sdm630', 7),
      meter('m-dtsu-variant', 'dtsu666', 6), // energy totals at 0x101E/0x1028, not where the template looks
      meter('m-ddsu-fc3', 'ddsu666', 9, { function: 3 }),
      meter('m-ddsu-fc4', 'ddsu666', 10), // the same kind of meter read by the template's FC04: nothing answers
    ]);
    await until('readings', () => ['m-no0156', 'm-dtsu-variant', 'm-ddsu-fc3'].every((id) => readingsOf(events, id).length >= 2), 10_000);
    await until('the FC04 meter faults', () => events.some((e) => e.type === 'device.fault' && e.device === 'm-ddsu-fc4'), 10_000);
    const data = (id: string) => readingsOf(events, id)[1]!.data as { values: Record<string, number>; missing?: string[] };
    expect(data('m-no0156')).toEqual({
      values: {
        voltageL1V: 230.1,
        voltageL2V: 231.2,
        voltageL3V: 229.9,
        currentL1A: 5.5,
        currentL2A: 6.25,
        currentL3A: 7,
        powerL1W: 1265.6,
        powerL2W: 1445,
        powerL3W: 1609.3,
        powerW: 4319.9,
        frequencyHz: 50.01,
        energyImportKwh: 12345.6,
        energyExportKwh: 12.5,
      },
      missing: ['energyTotalKwh'],
    });
    expect(data('m-dtsu-variant').missing).toEqual(['energyExportKwh', 'energyImportKwh']);
    expect(data('m-dtsu-variant').values).toMatchObject({ voltageL1V: 230.1, powerW: 4319.9 });
    expect(data('m-ddsu-fc3')).toEqual({
      values: {
        voltageV: 220.3,
        currentA: 4.5,
        powerW: 991.4,
        reactivePowerVar: 100,
        powerFactor: 0.98,
        frequencyHz: 50,
        energyImportKwh: 789.01,
        energyExportKwh: 1.5,
      },
    });
    expect(events.filter((e) => e.type === 'device.fault').map((e) => [e.device, (e.data as { code: string }).code])).toEqual([
      ['m-ddsu-fc4', 'MODBUS_EXCEPTION'],
    ]);
    expect(readingsOf(events, 'm-ddsu-fc4')).toEqual([]);
  }, 20_000);

  it('flags an energy total that goes backwards or jumps', async () => {
    const { events, peer } = await site([meter('m-a', 'sdm120', 2)]);
    await until('first', () => readingsOf(events, 'm-a').length > 0, 10_000);
    await peer.send({ op: 'set', unit: 2, table: 'ir', address: 0x0048, values: encode(400, 'float32') }); // import went down
    await until('backwards', () => readingsOf(events, 'm-a').some((e) => (e.data as { flags?: string[] }).flags?.includes('energyImportKwh:backwards')), 5000);
    await peer.send({ op: 'set', unit: 2, table: 'ir', address: 0x0048, values: encode(9400, 'float32') }); // +9000 kWh in a second
    await until('jump', () => readingsOf(events, 'm-a').some((e) => (e.data as { flags?: string[] }).flags?.includes('energyImportKwh:jump')), 5000);
  }, 20_000);
});

describe.runIf(RUN_PEER_TESTS)('meters over RTU (socat pty pairs)', () => {
  it('survive stray and truncated frames on the line: every reading that arrives is exact', async () => {
    const { noisyLine } = await import('./peers/noisy-line.js');
    const line = await noisyLine();
    cleanups.push(() => line.stop());
    const peer = await startModbusPeer({ mode: 'rtu', device: line.peerSide, baud: 9600, units: { '1': UNITS['1'] } });
    cleanups.push(() => peer.stop());
    const config = siteConfig({
      buses: [{ id: 'rs485-1', type: 'rtu', port: line.gatewaySide, baudRate: 9600, timeoutMs: 300, retries: 2 }],
      devices: [{ id: 'm-a', type: 'meter', model: 'sdm630', bus: 'rs485-1', unit: 1, intervalSec: 1 }],
    });
    const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, journal: false });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    cleanups.push(() => gateway.stop());
    await until('6 readings', () => readingsOf(events, 'm-a').length >= 6, 20_000);
    // Spoiled answers are retried on the same connection: a bad frame is not a lost adapter.
    expect(gateway.buses.get('rs485-1')!.stats()).toMatchObject({ reconnects: 0 });
    expect(gateway.buses.get('rs485-1')!.stats().badFrames + gateway.buses.get('rs485-1')!.stats().timeouts).toBeGreaterThan(0);
    expect(line.spoiled.garbage + line.spoiled.truncated).toBeGreaterThan(3);
    for (const e of readingsOf(events, 'm-a')) {
      expect((e.data as { values: Record<string, number> }).values).toMatchObject({ voltageL1V: 230.1, powerW: 4319.9, energyTotalKwh: 12358.1 });
    }
    expect(gateway.buses.get('rs485-1')!.connected).toBe(true);
  }, 30_000);
});

describe('a refused register block', () => {
  it('is left out of the following cycles and tried again every 10th, so a block that comes back is read again', async () => {
    const { vi } = await import('vitest');
    const { Meter, RETRY_ABSENT_CYCLES } = await import('../devices/meter/meter.js');
    const { GatewayError } = await import('../core/errors.js');
    const { systemClock } = await import('../core/clock.js');
    vi.useFakeTimers({ now: 0 });
    try {
      const asked: number[] = [];
      let hasTotal = false;
      const bus = {
        request: async (_unit: number, pdu: { fc: number; address: number; count: number }) => {
          asked.push(pdu.address);
          if (pdu.address === 0x0156 && !hasTotal) throw new GatewayError('MODBUS_EXCEPTION', 'exception 2', { exception: 2 });
          return { registers: new Array<number>(pdu.count).fill(0) };
        },
      };
      const emitted: Array<{ type: string; data: unknown }> = [];
      const config = siteConfig({
        buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: 1 }],
        devices: [{ id: 'm', type: 'meter', model: 'sdm630', bus: 'b', unit: 1, intervalSec: 1 }],
      });
      const device = config.devices[0]!;
      if (device.type !== 'meter') throw new Error('not a meter');
      const m = new Meter(device, {
        clock: systemClock,
        log: silentLog,
        emit: (type, data) => (emitted.push({ type, data }), 'id'),
        stateChanged: () => undefined,
        output: () => {
          throw new Error('no outputs');
        },
        input: () => {
          throw new Error('no inputs');
        },
        fireAlarmActive: () => false,
        bus: bus as never,
        phase: 0,
      });
      m.start();
      await vi.advanceTimersByTimeAsync(0); // the first cycle, at once
      const cycles = async (n: number) => {
        for (let i = 0; i < n; i++) await vi.advanceTimersByTimeAsync(1000);
      };
      const missingOf = () => emitted.filter((e) => e.type === 'meter.reading').map((e) => (e.data as { missing?: string[] }).missing ?? []);
      expect(missingOf()).toEqual([['energyTotalKwh']]);
      await cycles(RETRY_ABSENT_CYCLES - 1);
      expect(asked.filter((a) => a === 0x0156)).toHaveLength(1); // not asked again meanwhile
      expect(missingOf().every((m) => m.join() === 'energyTotalKwh')).toBe(true);
      hasTotal = true; // the meter is swapped for a fuller one
      await cycles(1);
      expect(asked.filter((a) => a === 0x0156)).toHaveLength(2); // the 11th cycle tries it again
      expect(missingOf().at(-1)).toEqual([]);
      await cycles(1);
      expect(asked.filter((a) => a === 0x0156)).toHaveLength(3); // and it is read every cycle again
      expect(emitted.some((e) => e.type === 'device.fault')).toBe(false);
      m.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
