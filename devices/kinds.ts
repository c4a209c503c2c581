/**
 * The table of device kinds: one line each. A kind is its own folder (devices/<kind>/index.ts
 * declares everything the rest of the gateway asks of it: devices/kind.ts); the site schema, the
 * cross-checks, the pin planner, the factory, /api/health, the doctor, the push routes and the
 * console's cards all iterate over this table. docs/development.md, "Adding a device kind".
 */
import { ACCESS_TERMINAL } from './access-terminal/index.js';
import { ALARM_INPUT } from './alarm-input/index.js';
import { BARRIER } from './barrier/index.js';
import { BOLLARD } from './bollard/index.js';
import { DOOR } from './door/index.js';
import type { Kind } from './kind.js';
import { LPR_CAMERA } from './lpr-camera/index.js';
import { METER } from './meter/index.js';
import { READER } from './reader/index.js';

export const KINDS = {
  door: DOOR,
  barrier: BARRIER,
  bollard: BOLLARD,
  'lpr-camera': LPR_CAMERA,
  meter: METER,
  'alarm-input': ALARM_INPUT,
  reader: READER,
  'access-terminal': ACCESS_TERMINAL,
} as const;

export type DeviceType = keyof typeof KINDS;

/** A device entry of the site file, of any kind. */
export type DeviceConfig = { [T in DeviceType]: KindConfig<T> }[DeviceType];
/** The config of one kind's entry. */
export type KindConfig<T extends DeviceType> = (typeof KINDS)[T] extends Kind<infer C> ? C : never;

/** A kind by its type name, for code that handles any kind. */
export function kindOf(type: string): Kind | undefined {
  return Object.hasOwn(KINDS, type) ? (KINDS[type as DeviceType] as unknown as Kind) : undefined;
}

/** Whether a device of this type is a lane (a barrier or a bollard: a camera may open it). */
export const isLaneType = (type: string): boolean => kindOf(type)?.lane === true;

/** Whether a device of this type is a door (a reader or a card may open it). */
export const isDoorType = (type: string): boolean => kindOf(type)?.door === true;
