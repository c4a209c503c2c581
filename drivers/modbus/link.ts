/** The wire, through modbus-serial: RTU over serialport 13, or Modbus TCP. */
import type { BusConfig } from '../../config/schema.js';
import { errorMessage } from '../../gateway/errors.js';
import type { ModbusLink, ModbusRequest, ModbusResponse } from './types.js';

import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';

export class ModbusSerialLink implements ModbusLink {
  private client: Client | undefined;
  private readonly closeListeners: Array<(reason: string) => void> = [];

  constructor(private readonly config: BusConfig) {}

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
    const client = this.client;
    if (!client?.isOpen) throw Object.assign(new Error('Port Not Open'), { errno: 'ECONNRESET' });
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

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}
