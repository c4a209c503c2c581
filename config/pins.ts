/** The pins a site uses, by device and role: the pin planner, the cross-checks and the I/O page read them. */
import { kindOf } from '../devices/kinds.js';
import type { DeviceConfig } from '../devices/kinds.js';
import type { PinDirection, PinRef, PinRole } from '../schema/sections.js';
import type { SiteConfig } from './schema.js';

export type { PinDirection } from '../schema/sections.js';
export { boardPinRange, pinRangeFor } from '../schema/sections.js';

/** The pins of any device, by its kind. */
export function devicePins(d: DeviceConfig): PinRole[] {
  return kindOf(d.type)!.pins(d);
}

/** One pin a device uses: which device, in which role, and where in the config it was written. */
export interface PinUse {
  owner: string;
  role: string;
  direction: PinDirection;
  ref: PinRef;
  /** config path of the pin reference, e.g. `devices[2].lock` */
  path: string;
}

/** Every pin every device (and the fire alarm) uses, in config order. */
export function pinUses(config: SiteConfig): PinUse[] {
  const uses: PinUse[] = [];
  const add = (owner: string, path: string, role: string, direction: PinDirection, ref: PinRef | undefined) => {
    if (ref) uses.push({ owner, role, direction, ref, path: `${path}.${role}` });
  };
  config.devices.forEach((d, i) => {
    for (const pin of devicePins(d)) add(d.id, `devices[${i}]`, pin.role, pin.direction, pin.ref);
  });
  if (config.fireAlarm) add('fire-alarm', 'fireAlarm', 'input', 'in', config.fireAlarm.input);
  return uses;
}
