/** The wire, through modbus-serial: RTU over serialport 13, or Modbus TCP. */
import type { BusConfig } from '../../schema/sections.js';
import { systemClock } from '../../core/clock.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { ModbusLink, ModbusRequest, ModbusResponse } from './types.js';
import { LinkError } from './types.js';

import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';

/** The serialport under modbus-serial's RTU port, for raw exchanges. */
interface RawPort {
  on(event: 'data', listener: (chunk: Buffer) => void): void;
  off(event: 'data', listener: (chunk: Buffer) => void): void;
  write(data: Buffer, callback: (err?: Error | null) => void): void;
}

/** errno values of a port or connection that is gone (modbus-serial, serialport, net). */
const LINK_GONE_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOTCONN', 'EIO', 'ENXIO', 'ENODEV']);

/** modbus-serial's errors, told apart by their fields once, here: everything else sees LinkError. */
export function classify(err: unknown, open: boolean): LinkError {
  if (err instanceof LinkError) return err;
  const e = (err ?? {}) as { modbusCode?: number; name?: string; errno?: string; message?: string };
  const message = errorMessage(err);
  if (typeof e.modbusCode === 'number') return new LinkError('exception', message, e.modbusCode);
  if (!open || e.name === 'PortNotOpenError' || LINK_GONE_ERRNO.has(e.errno ?? '')) return new LinkError('gone', message);
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT') return new LinkError('timeout', message);
  return new LinkError('bad-frame', message);
}

/** Bytes kept while waiting for one answer; a babbling line starts over rather than grows. */
const MAX_EXCHANGE_BYTES = 1024;

export class ModbusSerialLink implements ModbusLink {
  private client: Client | undefined;
  private readonly closeListeners: Array<(reason: string) => void> = [];

  constructor(
    private readonly config: BusConfig,
    /** times raw exchanges out (the bus's clock: the gateway's) */
    private readonly clock: Clock = systemClock,
  ) {}

  get isOpen(): boolean {
    return this.client?.isOpen ?? false;
  }

  async connect(): Promise<void> {
    await this.close();
    // A CommonJS module whose typings describe it as ESM: its constructor is module.exports.
    const ModbusRTU = (await import('modbus-serial')).default as unknown as new () => Client;
    const client = new ModbusRTU();
    const c = this.config;
    if (c.type === 'rtu') {
      await client.connectRTUBuffered(c.port, { baudRate: c.baudRate, parity: c.parity, stopBits: c.stopBits, dataBits: c.dataBits });
    } else {
      await client.connectTCP(c.host, { port: c.port });
    }
    this.client = client;
    // The client relays its port's close: a vanished USB adapter or TCP peer.
    const lost = (reason: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      for (const listener of this.closeListeners) listener(reason);
    };
    client.on('close', () => lost('port closed'));
    client.on('error', (err: unknown) => lost(`port error: ${errorMessage(err)}`));
  }

  async transact(unit: number, req: ModbusRequest, timeoutMs: number): Promise<ModbusResponse> {
    try {
      return await this.rawTransact(unit, req, timeoutMs);
    } catch (err) {
      throw classify(err, this.isOpen);
    }
  }

  private async rawTransact(unit: number, req: ModbusRequest, timeoutMs: number): Promise<ModbusResponse> {
    const client = this.client;
    if (!client?.isOpen) throw new LinkError('gone', 'Port Not Open');
    client.setID(unit);
    client.setTimeout(timeoutMs);
    switch (req.fc) {
      case 1:
        return { bits: (await client.readCoils(req.address, req.count)).data.slice(0, req.count) };
      case 2:
        return { bits: (await client.readDiscreteInputs(req.address, req.count)).data.slice(0, req.count) };
      case 3:
        return { registers: (await client.readHoldingRegisters(req.address, req.count)).data };
      case 4:
        return { registers: (await client.readInputRegisters(req.address, req.count)).data };
      case 5:
        await client.writeCoil(req.address, req.value);
        return {};
      case 6:
        await client.writeRegister(req.address, req.value);
        return {};
      case 15:
        await client.writeCoils(req.address, req.values);
        return {};
      case 16:
        await client.writeRegisters(req.address, req.values);
        return {};
    }
  }

  /**
   * One exchange of raw bytes on an RTU line, for other protocols sharing it (DL/T 645): writes
   * `request` to the serial port and hands everything that arrives to `take` until it returns a
   * result. modbus-serial sees the same bytes but has no transaction open, so it ignores them.
   */
  async exchange<T>(request: Buffer, take: (received: Buffer) => T | undefined, timeoutMs: number): Promise<T> {
    const client = this.client;
    if (!client?.isOpen) throw new LinkError('gone', 'Port Not Open');
    // modbus-serial gives no public handle on the serial port under its buffered RTU port; the
    // raw bytes of another protocol on the same line can only be had here.
    const serial = (client as unknown as { _port?: { _client?: RawPort } })._port?._client;
    if (this.config.type !== 'rtu' || !serial) throw new Error(`bus ${this.config.id} is not a serial line`);
    return new Promise<T>((resolve, reject) => {
      let received: Buffer = Buffer.alloc(0);
      let timer: TimerHandle | undefined;
      const done = (fn: () => void) => {
        this.clock.clearTimeout(timer);
        serial.off('data', onData);
        fn();
      };
      const onData = (chunk: Buffer) => {
        received = received.length + chunk.length > MAX_EXCHANGE_BYTES ? chunk : Buffer.concat([received, chunk]);
        try {
          const result = take(received);
          if (result !== undefined) done(() => resolve(result));
        } catch (err) {
          done(() => reject(err));
        }
      };
      timer = this.clock.setTimeout(() => done(() => reject(new LinkError('timeout', `Timed out after ${timeoutMs} ms`))), timeoutMs);
      serial.on('data', onData);
      serial.write(request, (err) => {
        if (err) done(() => reject(classify(err, this.isOpen)));
      });
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}
