/**
 * Plans a meter's poll cycle as the fewest Modbus transactions (docs/vendors.md, "Modbus RTU on RS485").
 *
 * Neighbouring registers of one function code are read together when the registers in between
 * cost fewer wire bytes than starting another request: a request costs 8 bytes out and 5 back
 * plus two inter-frame gaps (3.5 characters each) and the slave's turnaround, about 20 characters;
 * each bridged register costs 2 bytes. A gap is bridged only when every register in it is known
 * to exist (a hole answers exception 02 and fails the whole read), and no read exceeds 124
 * registers (some slaves refuse 125 on FC04).
 */
import { registerCount } from '../../drivers/modbus/decode.js';
import type { RegisterSpec } from './templates.js';

export const MAX_READ = 124;
/** 13 bytes of request and response framing plus 2 x 3.5 characters of silence. */
export const REQUEST_COST_BYTES = 13 + 7;

export interface PlannedRead {
  fc: 3 | 4;
  address: number;
  count: number;
  values: Array<RegisterSpec & { offset: number }>;
}

/** Address ranges known to be readable, per function code, besides the registers listed. */
export type Readable = Partial<Record<3 | 4, Array<[number, number]>>>;

export function planReads(specs: readonly RegisterSpec[], readable: Readable = {}, requestCostBytes = REQUEST_COST_BYTES): PlannedRead[] {
  const reads: PlannedRead[] = [];
  for (const fc of [3, 4] as const) {
    const mine = specs.filter((s) => s.fc === fc).sort((a, b) => a.address - b.address);
    const known = new Set<number>();
    for (const s of mine) for (let i = 0; i < registerCount(s.type); i++) known.add(s.address + i);
    for (const [from, to] of readable[fc] ?? []) for (let a = from; a <= to; a++) known.add(a);
    let current: PlannedRead | undefined;
    for (const spec of mine) {
      const size = registerCount(spec.type);
      if (current) {
        const end = current.address + current.count; // first register after the read
        const gap = spec.address - end;
        const bridgeable = gap <= 0 || (2 * gap < requestCostBytes && range(end, spec.address).every((a) => known.has(a)));
        const newCount = Math.max(current.count, spec.address + size - current.address);
        if (bridgeable && newCount <= MAX_READ) {
          current.count = newCount;
          current.values.push({ ...spec, offset: spec.address - current.address });
          continue;
        }
      }
      current = { fc, address: spec.address, count: size, values: [{ ...spec, offset: 0 }] };
      reads.push(current);
    }
  }
  return reads;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
