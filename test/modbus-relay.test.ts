import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import type { ModbusPeer } from './peers/modbus.js';
import { RUN_PEER_TESTS, freePort, ptyPair, startModbusPeer } from './peers/modbus.js';
import { until } from './peers/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function coils(peer: ModbusPeer, count = 5): Promise<number[]> {
  return ((await peer.send({ op: 'get', unit: 9, table: 'co', address: 0, count })) as { values: number[] }).values;
}

/** The contract example's east lane: a bollard on channels 1-5 of relay board unit 9. */
async function lane(bus: Record<string, unknown>, bollard: Record<string, unknown> = {}, more: Array<Record<string, unknown>> = []) {
  const config = siteConfig({
    buses: [{ id: 'rs485-1', timeoutMs: 300, retries: 1, ...bus }],
    io: [{ id: 'relays', type: 'modbus-relay', bus: 'rs485-1', unit: 9, channels: 8, pollMs: 50 }],
    devices: [
      {
        id: 'bollard-east',
        type: 'bollard',
        lower: { io: 'relays', pin: 1 },
        raise: { io: 'relays', pin: 2 },
        safetyLoop: { io: 'relays', pin: 3 },
        downLimit: { io: 'relays', pin: 4 },
        upLimit: { io: 'relays', pin: 5 },
        travelMs: 6000,
        pulseMs: 300,
        ...bollard,
      },
      ...more,
    ],
  });
  const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false });
  const events: GatewayEvent[] = [];
  gateway.eventBus.on('event', 'test', (e) => void events.push(e));
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { gateway, events };
}

describe.runIf(RUN_PEER_TESTS)('a Modbus relay board against a pymodbus peer', () => {
  it('drives a bollard over TCP: pulses coils, reads limit switches and the loop from discrete inputs', async () => {
    const port = await freePort();
    const peer = await startModbusPeer({ mode: 'tcp', port, units: { '9': { co: 8, di: 8 } } });
    cleanups.push(() => peer.stop());
    const { gateway, events } = await lane({ type: 'tcp', host: '127.0.0.1', port });
    expect(gateway.boards.get('relays')!.online).toBe(true);
    expect(await coils(peer)).toEqual([0, 0, 0, 0, 0]);

    await new Promise((r) => setTimeout(r, 1100)); // the loop hold-off after start
    expect(gateway.devices.get('bollard-east')!.command('close', { by: 'console' })).toEqual({ ok: true });
    await until('raise coil on', async () => (await coils(peer, 2))[1] === 1);
    await until('raise coil off after the pulse', async () => (await coils(peer, 2))[1] === 0);
    await peer.send({ op: 'set', unit: 9, table: 'di', address: 4, values: [1] }); // up limit (channel 5)
    await until('bollard.raised', () => events.some((e) => e.type === 'bollard.raised'));

    await peer.send({ op: 'set', unit: 9, table: 'di', address: 2, values: [1] }); // a car on the loop (channel 3)
    await until('the loop seen', () => gateway.devices.get('bollard-east')!.snapshot().vehicle === true);
    expect(gateway.devices.get('bollard-east')!.command('close', { by: 'console' })).toMatchObject({ ok: false, error: 'unsafe' });
  });

  it('a relay board that stops answering faults its devices, and its relays are set again when it returns', async () => {
    const port = await freePort();
    const peer = await startModbusPeer({ mode: 'tcp', port, units: { '9': { co: 8, di: 8 } } });
    cleanups.push(() => peer.stop());
    // A travel time the test cannot outlast: the only fault here is the board's.
    const maglock = { id: 'door-pump', type: 'door', lock: { io: 'relays', pin: 8 }, lockType: 'fail-safe' }; // energised to lock
    const { gateway, events } = await lane({ type: 'tcp', host: '127.0.0.1', port }, { travelMs: 60_000 }, [maglock]);
    expect((await coils(peer, 8))[7]).toBe(1);
    gateway.devices.get('bollard-east')!.command('open', { by: 'console' }); // lower pulse
    await peer.send({ op: 'remove', unit: 9 });
    await until('device.fault', () => events.some((e) => e.type === 'device.fault'));
    expect(gateway.health().devices).toEqual({ ok: 0, fault: 2 });
    await peer.send({ op: 'restore', unit: 9, reset: true }); // back from a power cut, relays off
    await until('device.recovered', () => events.filter((e) => e.type === 'device.recovered').length === 2, 15_000);
    await until('the maglock energised again', async () => (await coils(peer, 8))[7] === 1);
    const faults = events.filter((e) => e.device === 'bollard-east' && e.type.startsWith('device.'));
    expect(faults.map((e) => [e.type, (e.data as { code?: string }).code])).toEqual([
      ['device.fault', 'BOARD_OFFLINE'],
      ['device.recovered', 'BOARD_OFFLINE'],
    ]);
    expect(gateway.health().devices).toEqual({ ok: 2, fault: 0 });
  }, 30_000);

  it('writes a relay again when the board comes back from a power cut with its relays off', async () => {
    const port = await freePort();
    const peer = await startModbusPeer({ mode: 'tcp', port, units: { '9': { co: 8, di: 8 } } });
    cleanups.push(() => peer.stop());
    const { gateway } = await lane({ type: 'tcp', host: '127.0.0.1', port });
    const board = gateway.boards.get('relays')!;
    await board.write(1, 1); // as a device holding channel 1 on would
    await peer.send({ op: 'set', unit: 9, table: 'co', address: 0, values: [0] }); // the board reset
    await until('channel 1 written again', async () => (await coils(peer, 1))[0] === 1);
  });

  it('works over RTU through a socat pty pair', async () => {
    const pty = await ptyPair();
    cleanups.push(() => pty.stop());
    const peer = await startModbusPeer({ mode: 'rtu', device: pty.b, baud: 9600, units: { '9': { co: 8, di: 8 } } });
    cleanups.push(() => peer.stop());
    const { gateway, events } = await lane({ type: 'rtu', port: pty.a, baudRate: 9600 });
    expect(gateway.boards.get('relays')!.online).toBe(true);
    gateway.devices.get('bollard-east')!.command('open', { by: 'remote' });
    await until('lower coil on', async () => (await coils(peer, 1))[0] === 1);
    await peer.send({ op: 'set', unit: 9, table: 'di', address: 3, values: [1] }); // down limit
    await until('bollard.lowered', () => events.some((e) => e.type === 'bollard.lowered'));
  });
});
