import { afterEach, describe, expect, it } from 'vitest';
import type { BusConfig } from '../schema/sections.js';
import { createBus } from '../drivers/modbus/index.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import { interFrameGapMs, readWireTimeMs } from '../drivers/modbus/timing.js';
import { systemClock } from '../core/clock.js';
import { silentLog } from './helpers.js';
import type { ModbusPeer } from './peers/modbus.js';
import { RUN_PEER_TESTS, freePort, ptyPair, startModbusPeer } from './peers/modbus.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function bus(config: Partial<BusConfig> & Pick<BusConfig, 'type'>): ModbusBus {
  const full = { id: 'bus-1', timeoutMs: 300, retries: 1, ...config } as BusConfig;
  const b = createBus(full, { clock: systemClock, log: silentLog });
  cleanups.push(() => b.close());
  return b;
}

async function tcpPeer(units: Record<string, Record<string, number | Record<string, number[]>>>) {
  const port = await freePort();
  const peer = await startModbusPeer({ mode: 'tcp', port, units });
  cleanups.push(() => peer.stop());
  return { peer, port };
}

describe('RTU timing', () => {
  it('t3.5 is 3.5 character times up to 19200 baud and 1.75 ms above', () => {
    expect(interFrameGapMs({ baudRate: 9600, parity: 'none', stopBits: 1 })).toBeCloseTo(3.646, 3);
    expect(interFrameGapMs({ baudRate: 9600, parity: 'even', stopBits: 1 })).toBeCloseTo(4.01, 3);
    expect(interFrameGapMs({ baudRate: 115200, parity: 'none', stopBits: 1 })).toBe(1.75);
  });
  it('wire time of a read matches docs/vendors.md: 2 registers at 9600 8E1 ~27.5 ms, 80 ~206 ms', () => {
    expect(readWireTimeMs({ baudRate: 9600, parity: 'even', stopBits: 1 }, 2)).toBeCloseTo(27.5, 0);
    expect(readWireTimeMs({ baudRate: 9600, parity: 'even', stopBits: 1 }, 80)).toBeCloseTo(206, -1);
  });
});

describe.runIf(RUN_PEER_TESTS)('a Modbus bus against a pymodbus peer', () => {
  it('reads and writes coils, discrete inputs and registers over TCP', async () => {
    const { peer, port } = await tcpPeer({ '9': { co: 8, di: 8, hr: { '0': [1, 2, 3] }, ir: { '16': [40000, 7] } } });
    const b = bus({ type: 'tcp', host: '127.0.0.1', port });
    await b.start();
    expect(b.connected).toBe(true);
    await peer.send({ op: 'set', unit: 9, table: 'di', address: 2, values: [1] });
    expect(await b.request(9, { fc: 2, address: 0, count: 4 })).toEqual({ bits: [false, false, true, false] });
    await b.request(9, { fc: 5, address: 3, value: true }, { priority: 'high' });
    expect(await peer.send({ op: 'get', unit: 9, table: 'co', address: 0, count: 5 })).toEqual({ values: [0, 0, 0, 1, 0] });
    expect(await b.request(9, { fc: 3, address: 0, count: 3 })).toEqual({ registers: [1, 2, 3] });
    expect(await b.request(9, { fc: 4, address: 16, count: 2 })).toEqual({ registers: [40000, 7] });
  });

  it('an exception answer is MODBUS_EXCEPTION with its code, not a timeout', async () => {
    const { port } = await tcpPeer({ '9': { hr: { '0': [1] } } });
    const b = bus({ type: 'tcp', host: '127.0.0.1', port });
    await b.start();
    await expect(b.request(9, { fc: 3, address: 100, count: 1 })).rejects.toMatchObject({ code: 'MODBUS_EXCEPTION', context: { exception: 2 } });
    expect(b.stats()).toMatchObject({ exceptions: 1, timeouts: 0 });
  });

  it('a unit that stops answering is backed off on its own while another keeps answering', async () => {
    const { peer, port } = await tcpPeer({ '1': { hr: 4 }, '2': { hr: 4 } });
    const b = bus({ type: 'tcp', host: '127.0.0.1', port, timeoutMs: 200, retries: 1 });
    await b.start();
    await peer.send({ op: 'remove', unit: 2 });
    const started = Date.now();
    const results = await Promise.allSettled([
      b.request(2, { fc: 3, address: 0, count: 1 }),
      b.request(2, { fc: 3, address: 1, count: 1 }),
      b.request(1, { fc: 3, address: 0, count: 1 }),
      b.request(2, { fc: 3, address: 2, count: 1 }),
      b.request(1, { fc: 3, address: 1, count: 1 }),
    ]);
    const elapsed = Date.now() - started;
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))).toEqual([
      'MODBUS_TIMEOUT',
      'MODBUS_UNIT_BACKOFF',
      'ok',
      'MODBUS_UNIT_BACKOFF',
      'ok',
    ]);
    expect(elapsed).toBeLessThan(2 * 200 + 300); // two timed-out attempts, then nothing waits on unit 2
    expect(b.stats()).toMatchObject({ timeouts: 2, backedOff: 2 });
  });

  it('reconnects by itself when the peer goes away and comes back', async () => {
    const port = await freePort();
    let peer: ModbusPeer = await startModbusPeer({ mode: 'tcp', port, units: { '1': { hr: 2 } } });
    const b = createBus({ id: 'plant', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 200, retries: 0 }, { clock: systemClock, log: silentLog });
    cleanups.push(() => b.close());
    const statuses: boolean[] = [];
    b.onStatus((s) => statuses.push(s.connected));
    await b.start();
    await peer.stop();
    for (let i = 0; i < 100 && b.connected; i++) await new Promise((r) => setTimeout(r, 20));
    await expect(b.request(1, { fc: 3, address: 0, count: 1 })).rejects.toMatchObject({ code: 'SERIAL_DISCONNECTED' });
    peer = await startModbusPeer({ mode: 'tcp', port, units: { '1': { hr: { '0': [42] } } } });
    cleanups.push(() => peer.stop());
    const end = Date.now() + 8000;
    while (!b.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await b.request(1, { fc: 3, address: 0, count: 1 })).toEqual({ registers: [42] });
    expect(statuses).toEqual([true, false, true]);
  });

  it('reads and writes over RTU through a socat pty pair', async () => {
    const pty = await ptyPair();
    cleanups.push(() => pty.stop());
    const peer = await startModbusPeer({ mode: 'rtu', device: pty.b, baud: 9600, units: { '9': { co: 8, di: 8, ir: { '0': [17, 4] } } } });
    cleanups.push(() => peer.stop());
    const b = bus({ type: 'rtu', port: pty.a, baudRate: 9600, parity: 'none', stopBits: 1, dataBits: 8 });
    await b.start();
    await peer.send({ op: 'set', unit: 9, table: 'di', address: 5, values: [1] });
    expect(await b.request(9, { fc: 2, address: 0, count: 8 })).toEqual({ bits: [false, false, false, false, false, true, false, false] });
    await b.request(9, { fc: 5, address: 0, value: true });
    expect(await peer.send({ op: 'get', unit: 9, table: 'co', address: 0, count: 1 })).toEqual({ values: [1] });
    expect(await b.request(9, { fc: 4, address: 0, count: 2 })).toEqual({ registers: [17, 4] });
  });

  it('an RS485 adapter unplugged and plugged in again: requests fail at once while it is gone, then the bus reopens it by itself', async () => {
    let pty = await ptyPair();
    let peer = await startModbusPeer({ mode: 'rtu', device: pty.b, baud: 9600, units: { '1': { hr: { '0': [7] } } } });
    const b = bus({ type: 'rtu', port: pty.a, baudRate: 9600, parity: 'none', stopBits: 1, dataBits: 8 });
    const statuses: boolean[] = [];
    b.onStatus((s) => statuses.push(s.connected));
    await b.start();
    expect(await b.request(1, { fc: 3, address: 0, count: 1 })).toEqual({ registers: [7] });

    await peer.stop();
    await pty.stop(); // the device node is gone, as when the USB adapter is pulled
    for (let i = 0; i < 100 && b.connected; i++) await new Promise((r) => setTimeout(r, 20));
    expect(b.connected).toBe(false);
    await expect(b.request(1, { fc: 3, address: 0, count: 1 })).rejects.toMatchObject({ code: 'SERIAL_DISCONNECTED' });

    await new Promise((r) => setTimeout(r, 1500)); // a reconnect attempt or two find nothing there
    pty = await ptyPair(pty.dir);
    cleanups.push(() => pty.stop());
    peer = await startModbusPeer({ mode: 'rtu', device: pty.b, baud: 9600, units: { '1': { hr: { '0': [8] } } } });
    cleanups.push(() => peer.stop());
    const end = Date.now() + 10_000;
    while (!b.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await b.request(1, { fc: 3, address: 0, count: 1 })).toEqual({ registers: [8] });
    expect(statuses).toEqual([true, false, true]);
  }, 20_000);
});
