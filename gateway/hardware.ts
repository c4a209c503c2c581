/**
 * Opening the hardware a site names: Modbus buses first (relay boards use them), then the I/O
 * boards with every pin the devices use. Boards and buses the caller built (tests, the demo)
 * are used as given. The maps are filled as parts are built, so a failure part-way still leaves
 * the caller everything to close.
 */
import { pinUses } from '../config/pins.js';
import type { SiteConfig } from '../config/schema.js';
import { createBoard } from '../drivers/io/boards.js';
import type { DigitalIo, PinPlan } from '../drivers/io/types.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import type { PinRef } from '../schema/sections.js';
import { InputPin, OutputPin } from '../drivers/io/pin.js';
import type { Clock } from '../core/clock.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

interface Deps {
  clock: Clock;
  log: Logger;
}

/** Each board's pins as the devices use them, each pin and direction once. */
export function pinPlans(config: SiteConfig): Map<string, PinPlan[]> {
  const plans = new Map<string, PinPlan[]>();
  for (const use of pinUses(config)) {
    const plan = plans.get(use.ref.io) ?? [];
    if (!plan.some((p) => p.pin === use.ref.pin && p.direction === use.direction)) plan.push({ pin: use.ref.pin, direction: use.direction });
    plans.set(use.ref.io, plan);
  }
  return plans;
}

/** Buses connect in the background when their adapter or peer is not there yet: never fatal. */
export async function openBuses(
  config: SiteConfig,
  given: ReadonlyMap<string, ModbusBus> | undefined,
  into: Map<string, ModbusBus>,
  deps: Deps,
): Promise<void> {
  // Modbus (modbus-serial) is loaded only for a site with buses of its own.
  const wanted = config.buses.filter((b) => !given?.has(b.id));
  const createBus = wanted.length ? (await import('../drivers/modbus/index.js')).createBus : undefined;
  for (const busConfig of config.buses) into.set(busConfig.id, given?.get(busConfig.id) ?? createBus!(busConfig, deps));
  await Promise.all([...into.values()].map((b) => b.start()));
}

export async function openBoards(
  config: SiteConfig,
  given: ReadonlyMap<string, DigitalIo> | undefined,
  buses: ReadonlyMap<string, ModbusBus>,
  into: Map<string, DigitalIo>,
  deps: Deps,
): Promise<void> {
  const plans = pinPlans(config);
  for (const boardConfig of config.io) into.set(boardConfig.id, given?.get(boardConfig.id) ?? (await createBoard(boardConfig, { ...deps, buses })));
  await Promise.all(
    [...into].map(async ([id, board]) => {
      try {
        await board.open(plans.get(id) ?? []);
      } catch (err) {
        throw new GatewayError('BOARD_OFFLINE', `io board ${id} could not be opened: ${errorMessage(err)}`, { board: id }, { cause: err });
      }
    }),
  );
}

/** The pins devices take on the boards that were opened: a reference to a board that is not there is an error. */
export function pinsOn(boards: ReadonlyMap<string, DigitalIo>, clock: Clock): { input(ref: PinRef): InputPin; output(ref: PinRef): OutputPin } {
  const board = (ref: PinRef): DigitalIo => {
    const found = boards.get(ref.io);
    if (!found) throw new GatewayError('PIN_UNKNOWN', `no io board ${ref.io}`, { io: ref.io });
    return found;
  };
  return { input: (ref) => new InputPin(board(ref), ref, clock), output: (ref) => new OutputPin(board(ref), ref) };
}
