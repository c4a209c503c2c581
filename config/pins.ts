/** Pin ranges and pin roles, shared by validation and the runtime. */
import type { PinDirection, PinRef } from './devices.js';
import { devicePins } from './devices.js';
import { BOARD_PIN_RANGES } from './schema.js';
import type { SiteConfig } from './schema.js';

export interface PinRange {
  min: number;
  max: number;
}

interface RawBoard {
  id?: unknown;
  type?: unknown;
  channels?: unknown;
}

/** The valid pin range of a board entry, raw (unvalidated) or parsed. */
export function boardPinRange(board: RawBoard): PinRange | undefined {
  if (board.type === 'modbus-relay') {
    const channels = typeof board.channels === 'number' && Number.isInteger(board.channels) ? board.channels : 8;
    return { min: 1, max: channels };
  }
  if (typeof board.type === 'string' && board.type in BOARD_PIN_RANGES) {
    return BOARD_PIN_RANGES[board.type as keyof typeof BOARD_PIN_RANGES];
  }
  return undefined;
}

/** The pin range for a pin reference `{ io, pin }` within a raw config, when its board is known. */
export function pinRangeFor(rawConfig: unknown, rawPinRef: unknown): PinRange | undefined {
  if (!rawPinRef || typeof rawPinRef !== 'object') return undefined;
  const io = (rawPinRef as { io?: unknown }).io;
  const boards = (rawConfig as { io?: unknown } | null)?.io;
  if (!Array.isArray(boards)) return undefined;
  const board = boards.find((b): b is RawBoard => !!b && typeof b === 'object' && (b as RawBoard).id === io);
  return board ? boardPinRange(board) : undefined;
}

export type { PinDirection } from './devices.js';

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
