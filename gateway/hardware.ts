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
import type { Clock, TimerHandle } from '../core/clock.js';
import { every } from '../core/clock.js';
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
): Promise<Map<string, string>> {
  const plans = pinPlans(config);
  for (const boardConfig of config.io) into.set(boardConfig.id, given?.get(boardConfig.id) ?? (await createBoard(boardConfig, { ...deps, buses })));
  // A board that cannot be opened (no GPIO header, a missing adapter) is that board's fault: it
  // starts offline, its devices fault with the reason, and it is opened again (retryBoards). One
  // that does not answer in BOARD_START_WAIT_MS (a port with the wrong device on it, garbage on the
  // line) does not hold the rest of the site back either: it starts offline and its opening goes
  // on; when it answers, its devices recover through the board's status.
  const failed = new Map<string, string>();
  await Promise.all(
    [...into].map(async ([id, board]) => {
      let settled = false;
      const opening = board.open(plans.get(id) ?? []).finally(() => {
        settled = true;
        stillOpening.delete(board);
      });
      let timer: TimerHandle | undefined;
      const deadline = new Promise<void>((resolve) => (timer = deps.clock.setTimeout(resolve, BOARD_START_WAIT_MS)));
      try {
        await Promise.race([opening, deadline]);
        if (!settled) {
          stillOpening.set(board, opening);
          opening.catch(() => undefined); // its failure is the retry's business now
          failed.set(id, `no answer in ${BOARD_START_WAIT_MS / 1000} s (still trying: is the right device on this port?)`);
        }
      } catch (err) {
        failed.set(id, `could not be opened: ${errorMessage(err)}`);
      } finally {
        deps.clock.clearTimeout(timer);
      }
    }),
  );
  return failed;
}

/**
 * How long the start waits for a board to answer before it goes on without it: longer than an
 * Arduino takes to reset and answer StandardFirmata (2-3 s), so a good board never starts faulted.
 */
export const BOARD_START_WAIT_MS = 5000;

/** Boards whose first opening outlived the start: not opened again while it is still going. */
const stillOpening = new WeakMap<DigitalIo, Promise<void>>();

/** How often a board that could not be opened is tried again. */
export const BOARD_RETRY_MS = 5000;

/**
 * Opens each board in `failed` again every BOARD_RETRY_MS until it opens (its devices then
 * recover through the board's status); returns what stops the retries.
 */
export function retryBoards(config: SiteConfig, failed: ReadonlyMap<string, string>, boards: ReadonlyMap<string, DigitalIo>, deps: Deps): () => void {
  const plans = pinPlans(config);
  const waiting = new Set(failed.keys());
  let busy = false;
  const stop = every(deps.clock, BOARD_RETRY_MS, () => {
    if (busy || waiting.size === 0) return;
    busy = true;
    void Promise.all(
      [...waiting].map(async (id) => {
        const board = boards.get(id);
        if (!board || board.online) return void waiting.delete(id);
        if (stillOpening.has(board)) return; // its first opening is still waiting for an answer
        try {
          await board.open(plans.get(id) ?? []);
          waiting.delete(id);
          deps.log.info({ board: id }, 'io board opened');
        } catch (err) {
          deps.log.debug({ board: id, err: errorMessage(err) }, 'io board still cannot be opened');
        }
      }),
    ).finally(() => {
      busy = false;
      if (waiting.size === 0) stop();
    });
  });
  return stop;
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
