/**
 * Builds the I/O boards a site config names. Each board type's driver (onoff for gpio,
 * johnny-five and firmata-io for firmata, ...) is imported only when a site has such a board.
 */
import type { IoBoardConfig } from '../../schema/sections.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { ModbusBus } from '../modbus/types.js';
import { GatewayError } from '../../core/errors.js';
import type { DigitalIo } from './types.js';

export interface BoardDeps {
  clock: Clock;
  log: Logger;
  buses: ReadonlyMap<string, ModbusBus>;
}

export async function createBoard(config: IoBoardConfig, deps: BoardDeps): Promise<DigitalIo> {
  switch (config.type) {
    case 'sim': {
      const { SimBoard } = await import('./sim.js');
      return new SimBoard(config.id, { clock: deps.clock, traceFile: config.traceFile, script: config.script });
    }
    case 'gpio': {
      const { GpioBoard } = await import('./gpio.js');
      return new GpioBoard(config.id, { chipLabel: config.chipLabel });
    }
    case 'firmata': {
      const { FirmataBoard } = await import('./firmata.js');
      return new FirmataBoard(config.id, { port: config.port, baudRate: config.baudRate, clock: deps.clock });
    }
    case 'modbus-relay': {
      const bus = deps.buses.get(config.bus);
      if (!bus) throw new GatewayError('BOARD_UNSUPPORTED', `io board ${config.id}: no bus ${config.bus}`, { board: config.id });
      const { ModbusRelayBoard } = await import('./modbus-relay.js');
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
