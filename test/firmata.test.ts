import { createRequire } from 'node:module';
import { Firmata as MockFirmata } from 'mock-firmata';
import { afterEach, describe, expect, it } from 'vitest';
import { FirmataBoard } from '../drivers/io/firmata.js';
import type { FirmataIo } from '../drivers/io/firmata.js';
import type { BoardStatus, Level } from '../drivers/io/types.js';
import type { GatewayEvent } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { until } from './peers/until.js';

/** mock-firmata with the calls recorded and input reports injectable, as johnny-five's own tests do. */
class RecordingFirmata extends MockFirmata {
  readonly modes: Array<[number, number]> = [];
  readonly writes: Array<[number, number]> = [];
  private readonly readers = new Map<number, (value: number) => void>();
  override pinMode(pin: number, mode: number) {
    this.modes.push([pin, mode]);
  }
  override digitalWrite(pin: number, value: number) {
    this.writes.push([pin, value]);
  }
  override digitalRead(pin: number, callback: (value: number) => void) {
    this.readers.set(pin, callback);
  }
  report(pin: number, value: number) {
    this.readers.get(pin)?.(value);
  }
}

/** A factory handing out mock boards that answer (or stay silent) like a real Uno after its reset. */
function mockBoards(answer: () => boolean = () => true) {
  const made: RecordingFirmata[] = [];
  const factory = () => {
    const io = new RecordingFirmata();
    made.push(io);
    if (answer())
      setImmediate(() => {
        io.emit('connect');
        io.emit('ready');
      });
    return io as unknown as FirmataIo;
  };
  return { made, factory };
}

let board: FirmataBoard | undefined;
afterEach(async () => board?.close());

describe('the firmata board (johnny-five over mock-firmata)', () => {
  it('sets pin modes, writes outputs and reports inputs as the board sends them', async () => {
    const { made, factory } = mockBoards();
    board = new FirmataBoard('uno', { port: '/dev/ttyACM0', baudRate: 57600, io: factory });
    await board.open([
      { pin: 7, direction: 'out' },
      { pin: 8, direction: 'in' },
    ]);
    expect(board.online).toBe(true);
    const io = made[0]!;
    expect(io.modes).toEqual([
      [7, 1],
      [8, 0],
    ]);
    await board.write(7, 1);
    await board.write(7, 0);
    expect(io.writes).toEqual([
      [7, 1],
      [7, 0],
    ]);
    const seen: Level[] = [];
    board.watch(8, (v) => seen.push(v));
    io.report(8, 1);
    io.report(8, 1);
    io.report(8, 0);
    expect(seen).toEqual([1, 0]);
    expect(board.read(8)).toBe(0);
  });

  it('goes offline when unplugged, refuses writes, and reconnects by itself', async () => {
    const { made, factory } = mockBoards();
    board = new FirmataBoard('uno', { port: '/dev/ttyACM0', baudRate: 57600, io: factory, retryMs: 20 });
    const statuses: BoardStatus[] = [];
    board.onStatus((s) => statuses.push(s));
    await board.open([{ pin: 7, direction: 'out' }]);
    made[0]!.emit('disconnect');
    expect(board.online).toBe(false);
    await expect(board.write(7, 1)).rejects.toMatchObject({ code: 'BOARD_OFFLINE' });
    await until('the board online', () => board!.online);
    expect(made).toHaveLength(2);
    expect(statuses).toEqual([{ online: true }, { online: false, reason: 'board unplugged' }, { online: true }]);
    expect(made[1]!.modes).toEqual([[7, 1]]);
  });

  it('a board that never answers does not stop start-up: it starts offline and is retried', async () => {
    let answering = false;
    const { made, factory } = mockBoards(() => answering);
    board = new FirmataBoard('uno', { port: '/dev/ttyACM0', baudRate: 57600, io: factory, readyTimeoutMs: 50, retryMs: 20 });
    await board.open([{ pin: 7, direction: 'out' }]);
    expect(board.online).toBe(false);
    await until('five attempts to connect', () => made.length >= 5);
    const five = (await import('johnny-five')).default;
    expect(five.Board.cache.length).toBeLessThanOrEqual(1); // failed attempts are not kept
    answering = true;
    await until('the board online', () => board!.online);
  });

  it('faults the doors on it while it is away and re-asserts their locks when it returns', async () => {
    const { made, factory } = mockBoards();
    const fb = new FirmataBoard('uno', { port: '/dev/ttyACM0', baudRate: 57600, io: factory, retryMs: 20 });
    const config = siteConfig({
      io: [{ id: 'uno', type: 'firmata', port: '/dev/ttyACM0' }],
      devices: [{ id: 'door-lobby', type: 'door', lock: { io: 'uno', pin: 7 }, lockType: 'fail-safe' }],
    });
    const gateway = new Gateway({ config, log: silentLog, version: 't', boards: new Map([['uno', fb]]), listen: false });
    const events: GatewayEvent[] = [];
    gateway.eventBus.on('event', 'test', (e) => void events.push(e));
    await gateway.start();
    expect(made[0]!.writes).toEqual([[7, 1]]); // maglock energised: locked
    made[0]!.emit('disconnect');
    await until('device.recovered', () => events.some((e) => e.type === 'device.recovered'));
    expect(made[1]!.writes).toEqual([[7, 1]]); // locked again on the new connection
    expect(events.filter((e) => e.device === 'door-lobby').map((e) => [e.type, e.data])).toEqual([
      ['device.fault', { code: 'BOARD_OFFLINE', message: 'io board uno: board unplugged' }],
      ['device.recovered', { code: 'BOARD_OFFLINE' }],
    ]);
    await gateway.stop();
  });

  it('never loads the old serialport or firmata packages that johnny-five depends on', async () => {
    const { factory } = mockBoards();
    board = new FirmataBoard('uno', { port: '/dev/ttyACM0', baudRate: 57600, io: factory });
    await board.open([{ pin: 7, direction: 'out' }]);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((p) => p.includes('/node_modules/johnny-five/'))).toBe(true);
    expect(loaded.filter((p) => /node_modules\/(firmata|serialport|@serialport\/bindings)\//.test(p))).toEqual([]);
  });
});
