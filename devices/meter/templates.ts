/**
 * Built-in register maps (docs/vendors.md, "Meter register maps"). Value names carry their unit.
 * Only the registers listed are known to exist: the planner never reads across a hole.
 */
import type { RegisterType, WordOrder } from '../../drivers/modbus/decode.js';

export interface RegisterSpec {
  name: string;
  fc: 3 | 4;
  address: number;
  type: RegisterType;
  wordOrder: WordOrder;
  scale: number;
}

const f32 = (fc: 3 | 4, address: number, name: string, scale = 1): RegisterSpec => ({ name, fc, address, type: 'float32', wordOrder: 'ABCD', scale });

export const TEMPLATES: Record<'sdm120' | 'sdm630' | 'ddsu666' | 'dtsu666', RegisterSpec[]> = {
  // Eastron SDM120: input registers, float32 high word first; serial default 2400 8N1.
  sdm120: [
    f32(4, 0x0000, 'voltageV'),
    f32(4, 0x0006, 'currentA'),
    f32(4, 0x000c, 'powerW'),
    f32(4, 0x0012, 'apparentPowerVA'),
    f32(4, 0x0018, 'reactivePowerVar'),
    f32(4, 0x001e, 'powerFactor'),
    f32(4, 0x0046, 'frequencyHz'),
    f32(4, 0x0048, 'energyImportKwh'),
    f32(4, 0x004a, 'energyExportKwh'),
    f32(4, 0x0156, 'energyTotalKwh'),
  ],
  // Eastron SDM630: three phases; 9600 8N1.
  sdm630: [
    f32(4, 0x0000, 'voltageL1V'),
    f32(4, 0x0002, 'voltageL2V'),
    f32(4, 0x0004, 'voltageL3V'),
    f32(4, 0x0006, 'currentL1A'),
    f32(4, 0x0008, 'currentL2A'),
    f32(4, 0x000a, 'currentL3A'),
    f32(4, 0x000c, 'powerL1W'),
    f32(4, 0x000e, 'powerL2W'),
    f32(4, 0x0010, 'powerL3W'),
    f32(4, 0x0034, 'powerW'),
    f32(4, 0x0046, 'frequencyHz'),
    f32(4, 0x0048, 'energyImportKwh'),
    f32(4, 0x004a, 'energyExportKwh'),
    f32(4, 0x0156, 'energyTotalKwh'),
  ],
  // CHINT DDSU666 single phase: power in kW and kvar on the wire, W and var here. Input registers
  // (FC04) by the manual; some firmware answers only FC03: `function: 3` on the meter.
  ddsu666: [
    f32(4, 0x2000, 'voltageV'),
    f32(4, 0x2002, 'currentA'),
    f32(4, 0x2004, 'powerW', 1000),
    f32(4, 0x2006, 'reactivePowerVar', 1000),
    f32(4, 0x200a, 'powerFactor'),
    f32(4, 0x200e, 'frequencyHz'),
    f32(4, 0x4000, 'energyImportKwh'),
    f32(4, 0x400a, 'energyExportKwh'),
  ],
  // CHINT DTSU666 three phase: raw values with documented scaling, holding registers. The energy
  // addresses vary between units (docs/vendors.md) (some units use 0x101E/0x1028): addressOverrides moves them.
  dtsu666: [
    f32(3, 0x2006, 'voltageL1V', 0.1),
    f32(3, 0x2008, 'voltageL2V', 0.1),
    f32(3, 0x200a, 'voltageL3V', 0.1),
    f32(3, 0x200c, 'currentL1A', 0.001),
    f32(3, 0x200e, 'currentL2A', 0.001),
    f32(3, 0x2010, 'currentL3A', 0.001),
    f32(3, 0x2012, 'powerW', 0.1),
    f32(3, 0x2014, 'powerL1W', 0.1),
    f32(3, 0x2016, 'powerL2W', 0.1),
    f32(3, 0x2018, 'powerL3W', 0.1),
    f32(3, 0x2044, 'frequencyHz', 0.01),
    f32(3, 0x401e, 'energyImportKwh'),
    f32(3, 0x4028, 'energyExportKwh'),
  ],
};
