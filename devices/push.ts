/**
 * What devices that push to the gateway over HTTP share (LPR cameras, access terminals): the
 * interface the push routes call (http/pushes.ts), their `allowFrom` address lists, and their
 * state by when they were last heard from.
 */
import type { CameraReply } from '../drivers/lpr/types.js';

export type PushResult = 'read' | 'heartbeat' | 'ignored' | 'malformed' | 'refused' | 'too-large' | 'suppressed';

/** A device that pushes to the gateway over HTTP: an LPR camera or an access terminal. */
export interface PushSource {
  readonly id: string;
  /** its pushes by result (the /metrics page) */
  readonly counts: Readonly<Record<PushResult, number>>;
  accepts(address: string): boolean;
  count(result: PushResult): void;
  /** reads, acts, returns the vendor's expected answer; throws PushError when the body cannot be read */
  handlePush(body: Buffer, contentType: string | undefined, path: string, address: string, contentEncoding?: string): CameraReply;
}

/** Whether a device pushes to the gateway (its kind declares `push`). */
export function isPushSource(device: object): device is PushSource {
  return typeof (device as Partial<PushSource>).handlePush === 'function' && typeof (device as Partial<PushSource>).accepts === 'function';
}

/** A push source's entry in /api/health. */
export interface PushHealth {
  state: 'waiting' | 'online' | 'silent';
  lastSeenAt: string | null;
}

/** A push source's health entry, from when it was last heard from. */
export function pushHealth(lastSeenAt: number | undefined, now: number): PushHealth {
  return { state: pushState(lastSeenAt, now), lastSeenAt: lastSeenAt === undefined ? null : new Date(lastSeenAt).toISOString() };
}

/** A device not heard from for this long shows as `silent` (not a fault: cameras are quiet at night). */
export const SILENT_AFTER_MS = 10 * 60_000;

/** The state of a device that pushes to us (a camera, a terminal): never heard from, heard lately, or quiet for a while. */
export function pushState(lastSeenAt: number | undefined, now: number): 'waiting' | 'online' | 'silent' {
  return lastSeenAt === undefined ? 'waiting' : now - lastSeenAt > SILENT_AFTER_MS ? 'silent' : 'online';
}

/** A device's allowFrom: whether a push from an address is accepted, remembered per address. */
export class AllowList {
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly allowed: readonly string[]) {}

  accepts(address: string): boolean {
    let ok = this.answers.get(address);
    if (ok === undefined) {
      ok = addressAllowed(address, this.allowed);
      if (this.answers.size < 1024) this.answers.set(address, ok);
    }
    return ok;
  }
}

/** Whether `address` (as the socket reports it) is one of `allowed` (addresses or CIDR blocks). */
export function addressAllowed(address: string, allowed: readonly string[]): boolean {
  const addr = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return allowed.some((entry) => {
    const [net, bits] = entry.split('/');
    if (!net) return false;
    if (bits === undefined) return sameAddress(addr, net);
    const a = toBits(addr);
    const n = toBits(net);
    if (!a || !n || a.length !== n.length) return false;
    const len = Number(bits);
    return a.slice(0, len) === n.slice(0, len);
  });
}

function sameAddress(a: string, b: string): boolean {
  const x = toBits(a);
  const y = toBits(b);
  return x !== undefined && x === y;
}

/** An address as a string of bits (32 for IPv4, 128 for IPv6), or undefined when it is not one. */
function toBits(address: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    const parts = address.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  }
  if (!address.includes(':')) return undefined;
  const [head = '', tail, ...rest] = address.split('::');
  if (rest.length) return undefined;
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}
