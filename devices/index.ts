/** Builds the device objects a site config names. */
import type { DeviceConfig } from '../config/devices.js';
import { GatewayError } from '../core/errors.js';
import { AlarmInput } from './alarm-input.js';
import { Barrier } from './barrier.js';
import { Bollard } from './bollard.js';
import { Door } from './door.js';
import { Meter } from './meter/meter.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import type { AccessControl } from '../access/access.js';
import { CAMERA_PROTOCOLS } from '../drivers/lpr/index.js';
import { LprCamera } from './lpr-camera.js';
import type { Device, DeviceContext } from './types.js';
import { isLane } from './types.js';

export interface DeviceFactoryDeps {
  buses: ReadonlyMap<string, ModbusBus>;
  /** where in its interval a meter is polled (0 <= phase < 1), to spread a bus's meters */
  meterPhase(deviceId: string): number;
  access: AccessControl;
  /** another device, by id (a camera's lane), looked up when asked */
  device(id: string): Device | undefined;
  /** actuation latency of camera pushes, in seconds */
  actuated?(seconds: number): void;
}

export function createDevice(config: DeviceConfig, ctx: DeviceContext, deps: DeviceFactoryDeps): Device {
  switch (config.type) {
    case 'door':
      return new Door(config, ctx);
    case 'barrier':
      return new Barrier(config, ctx);
    case 'bollard':
      return new Bollard(config, ctx);
    case 'alarm-input':
      return new AlarmInput(config, ctx);
    case 'meter': {
      const bus = deps.buses.get(config.bus);
      if (!bus) throw new GatewayError('DEVICE_UNSUPPORTED', `device ${config.id}: no bus ${config.bus}`, { device: config.id });
      return new Meter(config, { ...ctx, bus, phase: deps.meterPhase(config.id) });
    }
    case 'lpr-camera':
      return new LprCamera(config, ctx, {
        protocol: CAMERA_PROTOCOLS[config.vendor],
        access: deps.access,
        ...(deps.actuated ? { actuated: deps.actuated } : {}),
        lane: () => {
          const lane = deps.device(config.lane);
          return isLane(lane) ? lane : undefined;
        },
      });
  }
}
