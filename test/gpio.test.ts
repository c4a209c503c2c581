import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GpioLine } from '../drivers/io/gpio.js';
import { GpioBoard } from '../drivers/io/gpio.js';
import { findHeaderChip } from '../drivers/io/gpio-chip.js';
import type { Level } from '../drivers/io/types.js';

/** A fake /sys/class/gpio with the chips a board's kernel shows. */
function sysfs(chips: Array<[base: number, label: string, ngpio: number]>): string {
  const root = mkdtempSync(join(tmpdir(), 'eg-sysfs-'));
  writeFileSync(join(root, 'export'), '');
  for (const [base, label, ngpio] of chips) {
    const dir = join(root, `gpiochip${base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'label'), `${label}\n`);
    writeFileSync(join(dir, 'base'), `${base}\n`);
    writeFileSync(join(dir, 'ngpio'), `${ngpio}\n`);
  }
  return root;
}

// As seen on real images: Raspberry Pi OS Bullseye on a Pi 3, Bookworm (6.6) on a Pi 4 and a Pi 5.
const PI3 = sysfs([
  [0, 'pinctrl-bcm2835', 54],
  [504, 'raspberrypi-exp-gpio', 8],
]);
const PI4 = sysfs([
  [512, 'pinctrl-bcm2711', 58],
  [570, 'raspberrypi-exp-gpio', 8],
]);
const PI5 = sysfs([
  [512, 'pinctrl-bcm2712', 32],
  [544, 'pinctrl-bcm2712', 2],
  [546, 'raspberrypi-exp-gpio', 8],
  [571, 'pinctrl-rp1', 54],
]);
const JETSON = sysfs([[300, 'tegra234-gpio', 164]]);

describe('finding the header GPIO controller', () => {
  it('a Pi 3 has it at base 0', () => {
    expect(findHeaderChip(PI3)).toEqual({ chip: 'gpiochip0', label: 'pinctrl-bcm2835', base: 0, ngpio: 54 });
  });
  it('a Pi 4 on Bookworm has it at base 512', () => {
    expect(findHeaderChip(PI4)).toMatchObject({ label: 'pinctrl-bcm2711', base: 512 });
  });
  it('a Pi 5 has the header on the RP1 at base 571, not on the BCM2712 chips', () => {
    expect(findHeaderChip(PI5)).toMatchObject({ label: 'pinctrl-rp1', base: 571 });
  });
  it('an unknown board is a clear error naming the chips it has', () => {
    expect(() => findHeaderChip(JETSON)).toThrow(
      expect.objectContaining({ code: 'GPIO_CHIP_NOT_FOUND', message: expect.stringContaining('gpiochip300 "tegra234-gpio"') }),
    );
  });
  it('an unknown board works when its header controller is named', () => {
    expect(findHeaderChip(JETSON, 'tegra234-gpio')).toMatchObject({ base: 300 });
  });
  it('a machine without sysfs GPIO says so', () => {
    expect(() => findHeaderChip('/nonexistent/gpio')).toThrow(expect.objectContaining({ code: 'GPIO_CHIP_NOT_FOUND' }));
  });
});

class FakeLine implements GpioLine {
  written: Level[] = [];
  unexported = false;
  private callback: ((err: Error | null | undefined, value: number) => void) | undefined;
  constructor(
    readonly sysfs: number,
    readonly direction: string,
    public level: number,
  ) {}
  readSync() {
    return this.level;
  }
  writeSync(value: Level) {
    this.written.push(value);
  }
  watch(cb: (err: Error | null | undefined, value: number) => void) {
    this.callback = cb;
  }
  unwatchAll() {
    this.callback = undefined;
  }
  unexport() {
    this.unexported = true;
  }
  edge(value: number) {
    this.level = value;
    this.callback?.(null, value);
  }
}

describe('the gpio board', () => {
  async function board(root: string) {
    const lines: FakeLine[] = [];
    const b = new GpioBoard('pi', {
      sysfsRoot: root,
      lines: (n, dir) => {
        const line = new FakeLine(n, dir, dir === 'in' ? 1 : 0);
        lines.push(line);
        return line;
      },
    });
    await b.open([
      { pin: 17, direction: 'out' },
      { pin: 27, direction: 'in' },
    ]);
    return { b, lines };
  }

  it('exports BCM numbers at the chip base: BCM 17 is sysfs 529 on a Pi 4 and 588 on a Pi 5', async () => {
    expect((await board(PI4)).lines.map((l) => [l.sysfs, l.direction])).toEqual([
      [529, 'out'],
      [539, 'in'],
    ]);
    expect((await board(PI5)).lines.map((l) => l.sysfs)).toEqual([588, 598]);
    expect((await board(PI3)).lines.map((l) => l.sysfs)).toEqual([17, 27]);
  });

  it('writes outputs, reads inputs as they were at open, and reports edges to watchers', async () => {
    const { b, lines } = await board(PI4);
    await b.write(17, 1);
    expect(lines[0]!.written).toEqual([1]);
    expect(b.read(27)).toBe(1);
    const seen: Level[] = [];
    b.watch(27, (v) => seen.push(v));
    lines[1]!.edge(0);
    lines[1]!.edge(0); // the same level again is no change
    lines[1]!.edge(1);
    expect(seen).toEqual([0, 1]);
  });

  it('refuses writes to inputs and pins outside its plan', async () => {
    const { b } = await board(PI4);
    expect(() => b.write(27, 1)).toThrow(expect.objectContaining({ code: 'PIN_DIRECTION' }));
    expect(() => b.read(5)).toThrow(expect.objectContaining({ code: 'PIN_UNKNOWN' }));
  });

  it('keeps outputs exported on close so relays hold their safe level', async () => {
    const { b, lines } = await board(PI4);
    await b.close();
    expect(lines.map((l) => l.unexported)).toEqual([false, true]);
  });

  it('a failing export names the pin and its sysfs number', async () => {
    const b = new GpioBoard('pi', { sysfsRoot: PI4, lines: () => Promise.reject(new Error('EBUSY')) });
    await expect(b.open([{ pin: 4, direction: 'out' }])).rejects.toMatchObject({
      code: 'BOARD_OFFLINE',
      message: 'gpio board pi: cannot export BCM 4 (sysfs 516): EBUSY',
    });
  });
});
