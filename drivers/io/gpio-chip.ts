/**
 * Finds the sysfs number of BCM pin 0 on a Raspberry Pi.
 *
 * Since kernel 6.6 (Raspberry Pi OS Bookworm) the sysfs GPIO numbers are offset: the main
 * controller is gpiochip512 on a Pi 4 and gpiochip571 on a Pi 5, and the base has moved between
 * images. So the base is never hard-coded: it is read from /sys/class/gpio/gpiochip*\/label and
 * base, choosing the chip whose label is the Pi's main GPIO controller (on a Pi 5 that is the
 * RP1 south bridge, which carries the 40-pin header; the BCM2712's own chips do not).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, errorMessage } from '../../core/errors.js';

/** Header controllers, most specific first: a Pi 5 also has bcm2712 chips that are not the header. */
export const PI_HEADER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpioChip {
  chip: string;
  label: string;
  base: number;
  ngpio: number;
}

export function listGpioChips(sysfsRoot = '/sys/class/gpio'): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(sysfsRoot).filter((n) => n.startsWith('gpiochip'));
  } catch (err) {
    throw new GatewayError('GPIO_CHIP_NOT_FOUND', `cannot read ${sysfsRoot}: ${errorMessage(err)} (is this a Raspberry Pi with sysfs GPIO?)`, {
      sysfsRoot,
    });
  }
  const read = (chip: string, file: string) => readFileSync(join(sysfsRoot, chip, file), 'utf8').trim();
  return names
    .map((chip) => ({ chip, label: read(chip, 'label'), base: Number(read(chip, 'base')), ngpio: Number(read(chip, 'ngpio')) }))
    .sort((a, b) => a.base - b.base);
}

/** The header's GPIO chip: by `label` when given, else the first known Pi controller present. */
export function findHeaderChip(sysfsRoot = '/sys/class/gpio', label?: string): GpioChip {
  const chips = listGpioChips(sysfsRoot);
  const wanted = label ? [label] : PI_HEADER_LABELS;
  for (const name of wanted) {
    const chip = chips.find((c) => c.label === name);
    if (chip) return chip;
  }
  const found = chips.map((c) => `${c.chip} "${c.label}"`).join(', ') || 'none';
  throw new GatewayError(
    'GPIO_CHIP_NOT_FOUND',
    `no GPIO controller labelled ${wanted.join(' or ')} in ${sysfsRoot} (found: ${found}); ` +
      'on another board set chipLabel on the gpio board to the label of its header controller',
    { sysfsRoot, chips },
  );
}
