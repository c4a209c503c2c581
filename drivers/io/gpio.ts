/**
 * The Raspberry Pi header (`type: gpio`), by BCM number, through onoff (sysfs GPIO with epoll
 * edge interrupts). onoff is loaded only when a site has a gpio board, so laptops and CI run
 * without it; the line factory is injectable so the numbering and watching are tested here.
 */
import type { PinDirection } from '../../config/pins.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import { findHeaderChip } from './gpio-chip.js';
import type { BoardStatus, DigitalIo, Level, PinPlan } from './types.js';

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

export class GpioBoard implements DigitalIo {
  readonly type = 'gpio';
  private readonly lines = new Map<number, { line: GpioLine; direction: PinDirection; value: Level }>();
  private readonly watchers = new Map<number, Set<(value: Level) => void>>();
  private isOnline = false;

  constructor(
    readonly id: string,
    private readonly options: GpioBoardOptions = {},
  ) {}

  get online(): boolean {
    return this.isOnline;
  }

  async open(plan: readonly PinPlan[]): Promise<void> {
    const chip = findHeaderChip(this.options.sysfsRoot, this.options.chipLabel);
    const factory = this.options.lines ?? onoffLine;
    for (const { pin, direction } of plan) {
      if (pin >= chip.ngpio) {
        throw new GatewayError('PIN_UNKNOWN', `gpio board ${this.id}: BCM ${pin} is beyond ${chip.chip} (${chip.ngpio} lines)`, { pin });
      }
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
      const entry = { line, direction, value: (direction === 'in' ? (line.readSync() ? 1 : 0) : 0) as Level };
      this.lines.set(pin, entry);
      if (direction === 'in') {
        line.watch((err, value) => {
          if (err) return;
          const level: Level = value ? 1 : 0;
          if (level === entry.value) return;
          entry.value = level;
          for (const listener of this.watchers.get(pin) ?? []) listener(level);
        });
      }
    }
    this.isOnline = true;
  }

  read(pin: number): Level {
    return this.entry(pin).value;
  }

  write(pin: number, value: Level): Promise<void> {
    const entry = this.entry(pin);
    if (entry.direction !== 'out') throw new GatewayError('PIN_DIRECTION', `gpio board ${this.id}: BCM ${pin} is an input`, { pin });
    try {
      entry.line.writeSync(value);
    } catch (err) {
      return Promise.reject(new GatewayError('BOARD_OFFLINE', `gpio board ${this.id}: write to BCM ${pin} failed: ${errorMessage(err)}`));
    }
    entry.value = value;
    return Promise.resolve();
  }

  watch(pin: number, listener: (value: Level) => void): () => void {
    this.entry(pin);
    const set = this.watchers.get(pin) ?? new Set();
    set.add(listener);
    this.watchers.set(pin, set);
    return () => set.delete(listener);
  }

  onStatus(_listener: (status: BoardStatus) => void): () => void {
    // The header cannot be unplugged; a failing write is reported where it happens.
    return () => undefined;
  }

  async close(): Promise<void> {
    for (const { line, direction } of this.lines.values()) {
      line.unwatchAll();
      // Outputs stay exported: unexporting could let a relay drop out of the safe level just set.
      if (direction === 'in') line.unexport();
    }
    this.lines.clear();
    this.watchers.clear();
    this.isOnline = false;
  }

  private entry(pin: number) {
    const entry = this.lines.get(pin);
    if (!entry) throw new GatewayError('PIN_UNKNOWN', `gpio board ${this.id}: BCM ${pin} is not used by any device`, { pin });
    return entry;
  }
}
