/**
 * Builds the device objects a site config names. Each kind's runtime (its class and drivers) is
 * imported here, and only for the kinds the site has: a meters-only site never loads a camera's
 * XML parser or a reader's serial port.
 */
import type { DeviceFactoryDeps, KindRuntime } from './kind.js';
import type { DeviceConfig } from './kinds.js';
import { isLaneType, kindOf } from './kinds.js';
import type { Device, DeviceContext, LaneDevice } from './types.js';

export type { DeviceFactoryDeps } from './kind.js';

/** Loads the runtime of every kind the site uses, at once (they load in parallel). */
export async function loadKinds(configs: readonly DeviceConfig[]): Promise<Map<string, KindRuntime<DeviceConfig>>> {
  const types = [...new Set(configs.map((c) => c.type))];
  const loaded = await Promise.all(types.map(async (type) => [type, (await kindOf(type)!.load()) as KindRuntime<DeviceConfig>] as const));
  return new Map(loaded);
}

/** Builds one device with its kind's loaded runtime (loadKinds). */
export function createDevice(
  runtimes: ReadonlyMap<string, KindRuntime<DeviceConfig>>,
  config: DeviceConfig,
  ctx: DeviceContext,
  deps: DeviceFactoryDeps,
): Device {
  const runtime = runtimes.get(config.type);
  if (!runtime) throw new Error(`kind ${config.type} was not loaded`);
  return runtime.create(config, ctx, deps);
}

/** A barrier or bollard: a device a camera can open (its kind says so). */
export function isLane(device: Device | undefined): device is LaneDevice {
  return device !== undefined && isLaneType(device.type);
}
