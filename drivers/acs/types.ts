/**
 * What an access terminal's push means once read (docs/credentials.md, "Terminals"): face and card
 * terminals decide by themselves and report; the gateway records and forwards. Every vendor
 * module turns raw bytes into an AcsPush or throws PushError with the reason (answered 400).
 */
import type { CameraReply } from '../lpr/types.js';
/** The terminal vendors whose event pushes the gateway reads (an access-terminal's `vendor`). */
export const TERMINAL_VENDORS = ['hikvision', 'dahua'] as const;
export type TerminalVendor = (typeof TERMINAL_VENDORS)[number];

export interface AcsRecord {
  outcome: 'granted' | 'denied';
  /** how the person was verified: face, card, fingerprint, password, ... */
  method: string;
  card?: string;
  /** the terminal's person (employee) number */
  person?: string;
  /** the vendor's own code for the event, for the platform: `5/75` (Hikvision major/minor), `ErrorCode 96` (Dahua) */
  terminalCode: string;
  /** the terminal's own time, as it sent it */
  terminalTime?: string;
}

export type AcsPush =
  | { kind: 'records'; records: AcsRecord[]; ignored: number }
  | { kind: 'heartbeat' }
  /** an event that is no access decision (door status, tamper, ...): seen, not recorded */
  | { kind: 'ignored'; what: string };

export interface AcsProtocol {
  readonly vendor: string;
  parse(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): AcsPush;
  /** the answer the terminal expects */
  reply(): CameraReply;
}

/** A personal number, as text, bounded; undefined when absent or empty. */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return s === '' ? undefined : s.slice(0, 64);
}
