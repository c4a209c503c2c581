/**
 * RTU frame timing (Modbus over serial line v1.02, 2.5.1.1): frames are separated by 3.5
 * character times of silence; above 19200 baud a fixed 1.75 ms. A character is 11 bits with
 * parity or two stop bits (8E1, 8N2), 10 bits at 8N1.
 */
export interface SerialFormat {
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  dataBits?: 7 | 8;
}

export function bitsPerChar(f: SerialFormat): number {
  return 1 + (f.dataBits ?? 8) + (f.parity === 'none' ? 0 : 1) + f.stopBits;
}

export function charTimeMs(f: SerialFormat): number {
  return (bitsPerChar(f) * 1000) / f.baudRate;
}

/** The inter-frame gap, t3.5, in ms. */
export function interFrameGapMs(f: SerialFormat): number {
  return f.baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(f);
}

/**
 * Wire time of one read of `count` registers (docs/vendors.md): request 8 bytes, response 5 + 2N,
 * plus the gap after each frame. Slave turnaround is not included.
 */
export function readWireTimeMs(f: SerialFormat, count: number): number {
  return (8 + 5 + 2 * count) * charTimeMs(f) + 2 * interFrameGapMs(f);
}
