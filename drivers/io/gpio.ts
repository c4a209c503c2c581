/**
 * The Raspberry Pi header (`type: gpio`), by BCM number, through onoff (sysfs GPIO with epoll
 * edge interrupts). onoff is loaded only when a site has a gpio board, so laptops and CI run
 * without it; the line factory is injectable so the numbering and watching are tested here.
 */
import type { PinDirection } from '../../schema/sections.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import { findHeaderChip } from './gpio-chip.js';
import { BoardBase } from './board-base.js';
import type { Level, PinPlan } from './types.js';

/** One exported sysfs line: what onoff's Gpio offers and this board uses. */
export interface GpioLine {
  readSync(): number;
  writeSync(value: Level): void;
  watch(callback: (err: Error | null | undefined, value: number) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type GpioLineFactory = (sysfsNumber: number, direction: PinDirection) => GpioLine | Promise<GpioLine>;

/** The real lines, through onoff. Inputs interrupt on both edges; debounce is done above, in pin.ts. */
export async function onoffLine(sysfsNumber: number, direction: PinDirection): Promise<GpioLine> {
  let onoff: typeof import('onoff');
  try {
    onoff = await import('onoff');
  } catch (err) {
    throw new GatewayError('BOARD_OFFLINE', `the onoff package is not installed (${errorMessage(err)}); npm install onoff`);
  }
  // 'low' exports an output already driven low, without a glitch; the safe level follows at once.
  return direction === 'in' ? new onoff.Gpio(sysfsNumber, 'in', 'both') : new onoff.Gpio(sysfsNumber, 'low');
}

export interface GpioBoardOptions {
  sysfsRoot?: string;
  chipLabel?: string;
  lines?: GpioLineFactory;
}

export class GpioBoard extends BoardBase {
  readonly type = 'gpio';
  private readonly lines = new Map<number, GpioLine>();

  constructor(
    id: string,
    private readonly options: GpioBoardOptions = {},
  ) {
    super(id);
  }

  protected override pinName(pin: number): string {
    return `BCM ${pin}`;
  }

  async open(plan: readonly PinPlan[]): Promise<void> {
    const chip = findHeaderChip(this.options.sysfsRoot, this.options.chipLabel);
    const factory = this.options.lines ?? onoffLine;
    this.planPins(plan, (pin) => {
      if (pin >= chip.ngpio) throw new GatewayError('PIN_UNKNOWN', `gpio board ${this.id}: BCM ${pin} is beyond ${chip.chip} (${chip.ngpio} lines)`, { pin });
    });
    for (const { pin, direction } of plan) {
      const sysfs = chip.base + pin;
      let line: GpioLine;
      try {
        line = await factory(sysfs, direction);
      } catch (err) {
        throw new GatewayError('BOARD_OFFLINE', `gpio board ${this.id}: cannot export BCM ${pin} (sysfs ${sysfs}): ${errorMessage(err)}`, {
          pin,
          sysfs,
        });
      }
      this.lines.set(pin, line);
      if (direction === 'in') {
        this.entry(pin).value = line.readSync() ? 1 : 0;
        line.watch((err, value) => {
          if (!err) this.reported(pin, value ? 1 : 0);
        });
      }
    }
    // The header cannot be unplugged: once open it stays online; a failing write is reported where it happens.
    this.setOnline(true);
  }

  protected applyLevel(pin: number, value: Level): void {
    this.lines.get(pin)!.writeSync(value);
  }

  async close(): Promise<void> {
    for (const [pin, line] of this.lines) {
      line.unwatchAll();
      // Outputs stay exported: unexporting could let a relay drop out of the safe level just set.
      if (this.pins.get(pin)?.direction === 'in') line.unexport();
    }
    this.lines.clear();
    this.closed();
  }
}
