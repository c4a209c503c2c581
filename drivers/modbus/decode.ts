/**
 * Register values to numbers. A 32-bit value spans two registers; meters disagree on the order of
 * its four bytes A B C D (A most significant): ABCD high word first (Eastron, CHINT), CDAB low
 * word first, BADC and DCBA with the bytes of each word swapped.
 */
export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export type WordOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

export const registerCount = (type: RegisterType): number => (type === 'int16' || type === 'uint16' ? 1 : 2);

const ORDER: Record<WordOrder, [number, number, number, number]> = {
  ABCD: [0, 1, 2, 3],
  CDAB: [2, 3, 0, 1],
  BADC: [1, 0, 3, 2],
  DCBA: [3, 2, 1, 0],
};

export function decode(registers: readonly number[], offset: number, type: RegisterType, order: WordOrder = 'ABCD'): number {
  const wire = Buffer.alloc(4);
  wire.writeUInt16BE(registers[offset]! & 0xffff, 0);
  if (registerCount(type) === 2) wire.writeUInt16BE(registers[offset + 1]! & 0xffff, 2);
  switch (type) {
    case 'uint16':
      return wire.readUInt16BE(0);
    case 'int16':
      return wire.readInt16BE(0);
    default: {
      const value = Buffer.from(ORDER[order].map((i) => wire[i]!));
      return type === 'float32' ? value.readFloatBE(0) : type === 'int32' ? value.readInt32BE(0) : value.readUInt32BE(0);
    }
  }
}

/** The inverse, for tests and simulators: the registers a meter would hold for `value`. */
export function encode(value: number, type: RegisterType, order: WordOrder = 'ABCD'): number[] {
  const v = Buffer.alloc(4);
  if (type === 'uint16') return [value & 0xffff];
  if (type === 'int16') return [(value << 16) >>> 16];
  if (type === 'float32') v.writeFloatBE(value, 0);
  else if (type === 'int32') v.writeInt32BE(value, 0);
  else v.writeUInt32BE(value >>> 0, 0);
  const wire = Buffer.alloc(4);
  ORDER[order].forEach((src, i) => (wire[src] = v[i]!));
  return [wire.readUInt16BE(0), wire.readUInt16BE(2)];
}
