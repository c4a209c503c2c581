/** Builds the device objects a site config names: see devices/kinds.ts, the table of kinds. */
export { createDevice, isLane, KINDS } from './kinds.js';
export type { DeviceFactoryDeps } from './kinds.js';
