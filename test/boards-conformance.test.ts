/**
 * One suite, every I/O board: the contract of drivers/io/types.ts, run against the simulator, the
 * Pi header (over fake sysfs lines), a Firmata board (mock-firmata) and a Modbus relay board (over
 * an in-memory Modbus double), the way serialport's bindings share one suite. A board kind that
 * keeps its own pin table or offline rule fails here.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firmata as MockFirmata } from 'mock-firmata';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../core/errors.js';
import { FirmataBoard } from '../drivers/io/firmata.js';
import type { FirmataIo } from '../drivers/io/firmata.js';
import { GpioBoard } from '../drivers/io/gpio.js';
import type { GpioLine } from '../drivers/io/gpio.js';
import { ModbusRelayBoard } from '../drivers/io/modbus-relay.js';
import { SimBoard } from '../drivers/io/sim.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from '../drivers/io/types.js';
import { silentLog } from './helpers.js';
import { until } from './peers/until.js';

const OUT = 3;
const IN = 4;
const PLAN: PinPlan[] = [
  { pin: OUT, direction: 'out' },
  { pin: IN, direction: 'in' },
];

/** What the suite needs of each board kind: the board, and the hardware around it. */
interface Rig {
  board: DigitalIo;
  /** the wiring sets the input to `level` */
  drive(pin: number, level: Level): void;
  /** what the hardware's output is now, as it sees it */
  hardwareOut(pin: number): number | undefined;
  /** unplugs and replugs the board (undefined: it cannot be unplugged, like the Pi header) */
  unplug?(): void;
  replug?(): void;
}

// --- the Pi header over fake sysfs lines --------------------------------------------------------
class FakeLine implements GpioLine {
  level = 0;
  private cb: ((err: Error | null | undefined, value: number) => void) | undefined;
  readSync() {
    return this.level;
  }
  writeSync(value: Level) {
    this.level = value;
  }
  watch(cb: (err: Error | null | undefined, value: number) => void) {
    this.cb = cb;
  }
  unwatchAll() {
    this.cb = undefined;
  }
  unexport() {}
  edge(v: number) {
    this.level = v;
    this.cb?.(null, v);
  }
}
function fakeSysfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'eg-sysfs-'));
  writeFileSync(join(root, 'export'), '');
  mkdirSync(join(root, 'gpiochip512'));
  writeFileSync(join(root, 'gpiochip512', 'label'), 'pinctrl-bcm2711\n');
  writeFileSync(join(root, 'gpiochip512', 'base'), '512\n');
  writeFileSync(join(root, 'gpiochip512', 'ngpio'), '58\n');
  return root;
}

// --- a Firmata board ---------------------------------------------------------------------------
class MockUno extends MockFirmata {
  readonly out = new Map<number, number>();
  private readonly readers = new Map<number, (v: number) => void>();
  override pinMode() {}
  override digitalWrite(pin: number, value: number) {
    this.out.set(pin, value);
  }
  override digitalRead(pin: number, cb: (v: number) => void) {
    this.readers.set(pin, cb);
  }
  report(pin: number, v: number) {
    this.readers.get(pin)?.(v);
  }
}

// --- a Modbus relay board on an in-memory bus ----------------------------------------------------
class ModbusDouble {
  coils = new Array<boolean>(8).fill(false);
  inputs = new Array<boolean>(8).fill(false);
  down = false;
  async request(_unit: number, pdu: { fc: number; address: number; count?: number; value?: boolean }) {
    if (this.down) throw new GatewayError('MODBUS_TIMEOUT', 'no answer');
    if (pdu.fc === 5) {
      this.coils[pdu.address] = pdu.value === true;
      return {};
    }
    const table = pdu.fc === 1 ? this.coils : this.inputs;
    return { bits: table.slice(pdu.address, pdu.address + (pdu.count ?? 1)) };
  }
}

const rigs: Record<string, () => Promise<Rig>> = {
  sim: async () => {
    const board = new SimBoard('b');
    await board.open(PLAN);
    return {
      board,
      drive: (p, l) => board.setInput(p, l),
      hardwareOut: (p) => board.history.filter((c) => c.pin === p).at(-1)?.value ?? 0,
      unplug: () => board.setOnline(false),
      replug: () => board.setOnline(true),
    };
  },
  gpio: async () => {
    const lines = new Map<number, FakeLine>();
    const board = new GpioBoard('pi', {
      sysfsRoot: fakeSysfs(),
      lines: (n) => {
        const l = new FakeLine();
        lines.set(n - 512, l);
        return l;
      },
    });
    await board.open(PLAN);
    return { board, drive: (p, l) => lines.get(p)!.edge(l), hardwareOut: (p) => lines.get(p)!.level };
  },
  firmata: async () => {
    let uno: MockUno | undefined;
    const board = new FirmataBoard('uno', {
      port: '/dev/ttyACM0',
      baudRate: 57600,
      retryMs: 20,
      io: () => {
        const io = new MockUno();
        uno = io;
        setImmediate(() => (io.emit('connect'), io.emit('ready')));
        return io as unknown as FirmataIo;
      },
    });
    await board.open(PLAN);
    return {
      board,
      drive: (p, l) => uno!.report(p, l),
      hardwareOut: (p) => uno!.out.get(p) ?? 0,
      unplug: () => uno!.emit('disconnect'),
      replug: () => undefined, // the board retries by itself and the mock answers
    };
  },
  'modbus-relay': async () => {
    const bus = new ModbusDouble();
    const board = new ModbusRelayBoard('relays', { bus: bus as never, unit: 9, channels: 8, pollMs: 10, log: silentLog });
    await board.open(PLAN);
    return {
      board,
      drive: (p, l) => void (bus.inputs[p - 1] = l === 1),
      hardwareOut: (p) => (bus.coils[p - 1] ? 1 : 0),
      unplug: () => void (bus.down = true),
      replug: () => void (bus.down = false),
    };
  },
};

let open: DigitalIo | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describe.each(Object.keys(rigs))('the %s board keeps the I/O contract', (kind) => {
  const rig = async () => {
    const r = await rigs[kind]!();
    open = r.board;
    return r;
  };

  it('is online once open; outputs start released; a pin outside the plan is PIN_UNKNOWN', async () => {
    const { board } = await rig();
    expect(board.online).toBe(true);
    expect(board.read(OUT)).toBe(0);
    expect(() => board.read(7)).toThrow(expect.objectContaining({ code: 'PIN_UNKNOWN' }));
    expect(() => board.watch(7, () => undefined)).toThrow(expect.objectContaining({ code: 'PIN_UNKNOWN' }));
  });

  it('writes an output to the hardware and reads back the level; writing an input is PIN_DIRECTION', async () => {
    const r = await rig();
    await r.board.write(OUT, 1);
    expect(r.board.read(OUT)).toBe(1);
    expect(r.hardwareOut(OUT)).toBe(1);
    expect(() => r.board.write(IN, 1)).toThrow(expect.objectContaining({ code: 'PIN_DIRECTION' }));
  });

  it('reports each change of an input once, and stops when unwatched', async () => {
    const r = await rig();
    const heard: Level[] = [];
    const off = r.board.watch(IN, (v) => void heard.push(v));
    r.drive(IN, 1);
    await until('the rise', () => heard.length === 1);
    r.drive(IN, 1); // no change
    r.drive(IN, 0);
    await until('the fall', () => heard.length === 2);
    expect(heard).toEqual([1, 0]);
    expect(r.board.read(IN)).toBe(0);
    off();
    r.drive(IN, 1);
    await until('the board to read it', () => r.board.read(IN) === 1);
    expect(heard).toEqual([1, 0]);
  });

  it('offline: status says so with a reason, a write is refused BOARD_OFFLINE and the cached level stays; back online is reported', async () => {
    const r = await rig();
    if (!r.unplug) return; // the Pi header cannot be unplugged
    const statuses: BoardStatus[] = [];
    r.board.onStatus((s) => void statuses.push(s));
    await r.board.write(OUT, 1);
    r.unplug();
    await until('offline', () => !r.board.online);
    expect(statuses[0]).toMatchObject({ online: false, reason: expect.any(String) });
    await expect(r.board.write(OUT, 0)).rejects.toMatchObject({ code: 'BOARD_OFFLINE' });
    expect(r.board.read(OUT)).toBe(1); // never reports a level the hardware was not given
    r.replug!();
    await until('online again', () => r.board.online);
    expect(statuses.at(-1)).toEqual({ online: true });
  });

  it('close takes it offline', async () => {
    const { board } = await rig();
    await board.close();
    expect(board.online).toBe(false);
  });
});
