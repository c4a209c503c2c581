import { describe, expect, it } from 'vitest';
import { decode, encode } from '../drivers/modbus/decode.js';
import { planReads } from '../devices/meter/plan.js';
import type { RegisterSpec } from '../devices/meter/templates.js';
import { TEMPLATES } from '../devices/meter/templates.js';

const shape = (specs: RegisterSpec[], readable = {}) =>
  planReads(specs, readable).map((r) => [r.fc, r.address, r.count, r.values.map((v) => `${v.name}@${v.offset}`)]);
const reg = (name: string, address: number, type: RegisterSpec['type'] = 'uint16', fc: 3 | 4 = 3): RegisterSpec => ({
  name,
  fc,
  address,
  type,
  wordOrder: 'ABCD',
  scale: 1,
});

describe('transaction plans of the built-in meters', () => {
  it('sdm630: phases in one read, total power, frequency and energies, total energy: 4 reads', () => {
    expect(shape(TEMPLATES.sdm630)).toEqual([
      [
        4,
        0x0000,
        18,
        ['voltageL1V@0', 'voltageL2V@2', 'voltageL3V@4', 'currentL1A@6', 'currentL2A@8', 'currentL3A@10', 'powerL1W@12', 'powerL2W@14', 'powerL3W@16'],
      ],
      [4, 0x0034, 2, ['powerW@0']],
      [4, 0x0046, 6, ['frequencyHz@0', 'energyImportKwh@2', 'energyExportKwh@4']],
      [4, 0x0156, 2, ['energyTotalKwh@0']],
    ]);
  });
  it('sdm120: undocumented holes between its values are never read: 8 reads', () => {
    expect(shape(TEMPLATES.sdm120).map(([fc, a, n]) => [fc, a, n])).toEqual([
      [4, 0x0000, 2],
      [4, 0x0006, 2],
      [4, 0x000c, 2],
      [4, 0x0012, 2],
      [4, 0x0018, 2],
      [4, 0x001e, 2],
      [4, 0x0046, 6],
      [4, 0x0156, 2],
    ]);
  });
  it('ddsu666: 5 reads', () => {
    expect(shape(TEMPLATES.ddsu666).map(([fc, a, n]) => [fc, a, n])).toEqual([
      [4, 0x2000, 8],
      [4, 0x200a, 2],
      [4, 0x200e, 2],
      [4, 0x4000, 2],
      [4, 0x400a, 2],
    ]);
  });
  it('dtsu666: holding registers, voltages to phase powers in one read: 4 reads', () => {
    expect(shape(TEMPLATES.dtsu666).map(([fc, a, n]) => [fc, a, n])).toEqual([
      [3, 0x2006, 20],
      [3, 0x2044, 2],
      [3, 0x401e, 2],
      [3, 0x4028, 2],
    ]);
  });
});

describe('transaction plans of awkward custom maps', () => {
  it('does not bridge an unknown register, and does when it is declared readable', () => {
    const specs = [reg('aA', 10, 'int16'), reg('bW', 12, 'uint32')];
    expect(shape(specs)).toEqual([
      [3, 10, 1, ['aA@0']],
      [3, 12, 2, ['bW@0']],
    ]);
    expect(shape(specs, { 3: [[11, 11]] })).toEqual([[3, 10, 4, ['aA@0', 'bW@2']]]);
  });
  it('bridges 9 known registers (18 bytes) but not 10 (20 bytes, as dear as a new request)', () => {
    expect(shape([reg('aV', 0), reg('bV', 10)], { 3: [[0, 100]] })).toEqual([[3, 0, 11, ['aV@0', 'bV@10']]]);
    expect(shape([reg('aV', 0), reg('bV', 11)], { 3: [[0, 100]] })).toEqual([
      [3, 0, 1, ['aV@0']],
      [3, 11, 1, ['bV@0']],
    ]);
  });
  it('caps every read at 124 registers', () => {
    const many = Array.from({ length: 200 }, (_, i) => reg(`r${i}V`, i));
    expect(planReads(many).map((r) => [r.address, r.count])).toEqual([
      [0, 124],
      [124, 76],
    ]);
  });
  it('starts a new read rather than split a 32-bit value across the cap', () => {
    const specs = [...Array.from({ length: 123 }, (_, i) => reg(`r${i}V`, i)), reg('bigWh', 123, 'uint32')];
    expect(planReads(specs).map((r) => [r.address, r.count])).toEqual([
      [0, 123],
      [123, 2],
    ]);
  });
  it('keeps function codes apart, and reads one register once for two values', () => {
    const specs = [reg('hV', 5, 'uint16', 3), reg('iV', 5, 'uint16', 4), reg('hSignedV', 5, 'int16', 3)];
    expect(shape(specs)).toEqual([
      [3, 5, 1, ['hV@0', 'hSignedV@0']],
      [4, 5, 1, ['iV@0']],
    ]);
  });
});

describe('decoding registers', () => {
  it('float32 in every word order', () => {
    for (const order of ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const) {
      expect(decode(encode(230.5, 'float32', order), 0, 'float32', order)).toBeCloseTo(230.5, 5);
    }
    expect(encode(230.5, 'float32', 'ABCD')).toEqual([0x4366, 0x8000]);
    expect(encode(230.5, 'float32', 'CDAB')).toEqual([0x8000, 0x4366]);
    expect(decode([0x6643, 0x0080], 0, 'float32', 'BADC')).toBe(230.5);
  });
  it('signed and unsigned integers', () => {
    expect(decode([0xffff], 0, 'int16')).toBe(-1);
    expect(decode([0xffff], 0, 'uint16')).toBe(65535);
    expect(decode([0xffff, 0xfffe], 0, 'int32')).toBe(-2);
    expect(decode([0x0001, 0x0000], 0, 'uint32')).toBe(65536);
    expect(decode([0x0000, 0x0001], 0, 'uint32', 'CDAB')).toBe(65536);
  });
});
