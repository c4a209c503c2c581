/** Builds the Modbus buses a site config names. */
import type { BusConfig } from '../../schema/sections.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { QueuedModbusBus } from './bus.js';
import { ModbusSerialLink } from './link.js';
import { interFrameGapMs } from './timing.js';
import type { ModbusBus } from './types.js';

export function createBus(config: BusConfig, deps: { clock: Clock; log: Logger }): ModbusBus {
  return new QueuedModbusBus({
    id: config.id,
    link: new ModbusSerialLink(config, deps.clock),
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    gapMs: config.type === 'rtu' ? interFrameGapMs(config) : 0,
    log: deps.log.child({ bus: config.id }),
    clock: deps.clock,
  });
}
