/**
 * One part's fault is that part's fault (#27), on the real process: a site whose Firmata board,
 * GPIO header, RS485 adapter (and the relay board and meter on it), Modbus TCP meter, a hung Modbus
 * TCP gateway (it takes the connection and never answers), serial and
 * keyboard-mode readers and broker are all missing at start. The process stays up with nothing
 * uncaught, a door on a board that is there opens as usual, each missing part faults only its own
 * devices with a reason a person can act on, and the parts that come back (the RS485 adapter and
 * its peers, the TCP meter, the serial reader) recover by themselves; unplugged again while
 * running, they fault again, and recover when plugged in once more.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../drivers/modbus/decode.js';
import type { GatewayProcess } from './helpers.js';
import { INSTALLER, bearer, installerSite, runGatewayProcess } from './helpers.js';
import { RUN_PEER_TESTS, freePort, ptyPair, startModbusPeer } from './peers/modbus.js';
import { until } from './peers/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Snapshot {
  id: string;
  fault: string | null;
  state: string;
}

describe.runIf(RUN_PEER_TESTS)('a missing part faults only its own devices (the real process)', () => {
  it('starts with every other part missing, opens the door that is there, and recovers each part that comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-isolation-'));
    const line = join(dir, 'rs485');
    const readerLine = join(dir, 'reader');
    mkdirSync(line);
    mkdirSync(readerLine);
    const [http, modbusTcp, broker] = [await freePort(), await freePort(), await freePort()];
    // a Modbus TCP gateway that is hung: it takes the connection and never answers
    const hung = createServer((socket) => void socket.on('data', () => undefined));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => hung.close(() => r())));
    const hungPort = (hung.address() as AddressInfo).port;
    const { site } = await installerSite(
      dir,
      http,
      `upstream: { mqtt: { url: "mqtt://127.0.0.1:${broker}" } }
buses:
  - { id: rs485, type: rtu, port: ${line}/a, baudRate: 9600, timeoutMs: 300, retries: 0 }
  - { id: plant, type: tcp, host: 127.0.0.1, port: ${modbusTcp}, timeoutMs: 300, retries: 0 }
  - { id: hung, type: tcp, host: 127.0.0.1, port: ${hungPort}, timeoutMs: 300, retries: 0 }
io:
  - { id: sim, type: sim, traceFile: ${dir}/trace.jsonl }
  - { id: uno, type: firmata, port: ${dir}/ttyNOPE0 }
  - { id: pi, type: gpio, chipLabel: eg-test-no-such-chip }
  - { id: relays, type: modbus-relay, bus: rs485, unit: 9, channels: 8, pollMs: 200 }
devices:
  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure, unlockMs: 1000 }
  - { id: door-uno, type: door, lock: { io: uno, pin: 4 }, lockType: fail-secure }
  - { id: door-pi, type: door, lock: { io: pi, pin: 17 }, lockType: fail-secure }
  - { id: door-relay, type: door, lock: { io: relays, pin: 1 }, lockType: fail-secure }
  - { id: meter-rtu, type: meter, model: custom, bus: rs485, unit: 1, intervalSec: 1, registers: [{ name: voltageV, address: 0, function: 4, type: float32 }] }
  - { id: meter-tcp, type: meter, model: custom, bus: plant, unit: 1, intervalSec: 1, registers: [{ name: voltageV, address: 0, function: 4, type: float32 }] }
  - { id: meter-hung, type: meter, model: custom, bus: hung, unit: 1, intervalSec: 1, registers: [{ name: voltageV, address: 0, function: 4, type: float32 }] }
  - { id: qr-serial, type: reader, door: lobby, port: ${readerLine}/a }
  - { id: qr-usb, type: reader, door: lobby, keyboard: ${dir}/no-such-event-kbd }
`,
    );
    const gw: GatewayProcess = await runGatewayProcess(site, http);
    cleanups.push(() => gw.stop());
    const base = `http://127.0.0.1:${http}`;
    expect(gw.exited(), gw.stderr()).toBe(false);
    const auth = await bearer(base, INSTALLER.username, INSTALLER.password);
    const devices = async () =>
      new Map(((await (await fetch(`${base}/api/devices`, { headers: auth })).json()) as { devices: Snapshot[] }).devices.map((d) => [d.id, d]));
    const faultOf = async (id: string) => (await devices()).get(id)?.fault ?? null;

    // each missing part has faulted its own devices, and only those
    await until(
      async () => `the missing parts' devices to fault: ${JSON.stringify([...(await devices()).values()])}`,
      async () => {
        const d = await devices();
        return ['door-uno', 'door-pi', 'door-relay', 'meter-rtu', 'meter-tcp', 'meter-hung', 'qr-serial', 'qr-usb'].every((id) => d.get(id)?.fault);
      },
    );
    const now = await devices();
    expect(now.get('lobby')!.fault).toBeNull();
    expect(now.get('door-uno')!.fault).toBe('BOARD_OFFLINE');
    expect(now.get('door-pi')!.fault).toBe('BOARD_OFFLINE');
    expect(now.get('door-relay')!.fault).toBe('BOARD_OFFLINE');
    expect(now.get('qr-serial')!.fault).toBe('READER_OFFLINE');
    expect(now.get('qr-usb')!.fault).toBe('READER_OFFLINE');
    expect(now.get('meter-hung')!.fault).toBe('MODBUS_TIMEOUT'); // connected, and no answer

    // the door on the board that is there opens at once
    const opened = await fetch(`${base}/api/devices/lobby/open`, { method: 'POST', headers: auth });
    expect(opened.status).toBe(200);
    await until('the lobby lock driven', () => readFileSync(join(dir, 'trace.jsonl'), 'utf8').includes('"pin":1,"direction":"out","value":1'));

    // the reason a person reads names the part and what is wrong with it
    const events = (
      (await (await fetch(`${base}/api/events?limit=1000&type=device.fault`, { headers: auth })).json()) as {
        events: Array<{ device: string; data: { message: string } }>;
      }
    ).events;
    const message = (id: string) => events.find((e) => e.device === id)?.data.message ?? '';
    expect(message('door-uno')).toMatch(/io board uno: .*ttyNOPE0/);
    expect(message('door-pi')).toMatch(/io board pi: /);

    // the RS485 adapter is plugged in (with the relay board and the meter on its line), the TCP
    // meter comes up, the serial reader is plugged in: each recovers by itself
    const pty = await ptyPair(line);
    cleanups.push(() => pty.stop());
    const rtuPeer = await startModbusPeer({
      mode: 'rtu',
      device: pty.b,
      baud: 9600,
      units: { '1': { ir: { '0': encode(230.5, 'float32') } }, '9': { co: 8, di: 8 } },
    });
    cleanups.push(() => rtuPeer.stop());
    const tcpPeer = await startModbusPeer({ mode: 'tcp', port: modbusTcp, units: { '1': { ir: { '0': encode(231.5, 'float32') } } } });
    cleanups.push(() => tcpPeer.stop());
    const reader = await ptyPair(readerLine);
    cleanups.push(() => reader.stop());
    for (const id of ['meter-rtu', 'meter-tcp', 'door-relay', 'qr-serial']) await until(`${id} recovered`, async () => (await faultOf(id)) === null, 30_000);
    expect(await faultOf('door-uno')).toBe('BOARD_OFFLINE');
    expect(await faultOf('qr-usb')).toBe('READER_OFFLINE');
    expect(await faultOf('meter-hung')).toBe('MODBUS_TIMEOUT'); // still hung: still its own fault only

    // unplugged while running: the RS485 adapter and the serial reader go away, their devices
    // fault, the door on the sim board still opens; plugged in again, they recover
    await rtuPeer.stop();
    await pty.stop();
    await reader.stop();
    for (const id of ['meter-rtu', 'door-relay', 'qr-serial']) await until(`${id} faulted when unplugged`, async () => (await faultOf(id)) !== null, 30_000);
    expect(await faultOf('meter-tcp')).toBeNull();
    expect((await fetch(`${base}/api/devices/lobby/open`, { method: 'POST', headers: auth })).status).toBe(200);
    const pty2 = await ptyPair(line);
    cleanups.push(() => pty2.stop());
    const rtuPeer2 = await startModbusPeer({
      mode: 'rtu',
      device: pty2.b,
      baud: 9600,
      units: { '1': { ir: { '0': encode(230.5, 'float32') } }, '9': { co: 8, di: 8 } },
    });
    cleanups.push(() => rtuPeer2.stop());
    const reader2 = await ptyPair(readerLine);
    cleanups.push(() => reader2.stop());
    for (const id of ['meter-rtu', 'door-relay', 'qr-serial'])
      await until(`${id} recovered when plugged in again`, async () => (await faultOf(id)) === null, 30_000);

    // and through all of it nothing reached the process's last net
    expect(gw.exited()).toBe(false);
    expect(gw.stderr()).not.toMatch(/uncaught/i);
  }, 90_000);
});
