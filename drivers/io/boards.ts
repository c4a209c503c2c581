/** Builds the I/O boards a site config names. */
import type { IoBoardConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { ModbusBus } from '../modbus/types.js';
import { GatewayError } from '../../core/errors.js';
import { FirmataBoard } from './firmata.js';
import { GpioBoard } from './gpio.js';
import { ModbusRelayBoard } from './modbus-relay.js';
import { SimBoard } from './sim.js';
import type { DigitalIo } from './types.js';

export interface BoardDeps {
  clock: Clock;
  log: Logger;
  buses: ReadonlyMap<string, ModbusBus>;
}

export function createBoard(config: IoBoardConfig, deps: BoardDeps): DigitalIo {
  switch (config.type) {
    case 'sim':
      return new SimBoard(config.id, { clock: deps.clock, traceFile: config.traceFile, script: config.script });
    case 'gpio':
      return new GpioBoard(config.id, { chipLabel: config.chipLabel });
    case 'firmata':
      return new FirmataBoard(config.id, { port: config.port, baudRate: config.baudRate, clock: deps.clock });
    case 'modbus-relay': {
      const bus = deps.buses.get(config.bus);
      if (!bus) throw new GatewayError('BOARD_UNSUPPORTED', `io board ${config.id}: no bus ${config.bus}`, { board: config.id });
      return new ModbusRelayBoard(config.id, {
        bus,
        unit: config.unit,
        channels: config.channels,
        pollMs: config.pollMs,
        log: deps.log,
        clock: deps.clock,
      });
    }
  }
}
