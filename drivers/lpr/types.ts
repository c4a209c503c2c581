/**
 * What a camera push means once its vendor format is read, and how each vendor expects to be
 * answered. Every vendor module turns raw bytes into a CameraPush or throws PushError with the
 * reason, which the gateway answers with 400 and logs.
 */

/** The camera vendors whose push formats the gateway reads (an lpr-camera's `vendor`). */
export const CAMERA_VENDORS = ['hikvision', 'dahua', 'vzenith', 'generic'] as const;
export type CameraVendor = (typeof CAMERA_VENDORS)[number];

export interface PlateReadPush {
  kind: 'read';
  /** the plate text as the camera sent it; null or "unknown" when it read no plate */
  plate: string | null;
  /** 0-100 */
  confidence: number;
  /** the camera's own timestamp, as it sent it (camera clocks drift: decisions use the gateway's) */
  cameraTime?: string;
  plateColor?: string;
  /** the camera says this read is a resend of an old one (Hikvision isDataRetransmission) */
  retransmission?: boolean;
  /**
   * the camera's own list verdict, normalised: `allow` (Hikvision whiteList / allowList), `block`
   * (blackList / blockList), `other` (otherList); recorded, never obeyed (docs/parking.md)
   */
  cameraList?: 'allow' | 'block' | 'other';
  /** what the vendor's reply must echo (Vzenith plateid and channel) */
  echo?: { plateid?: number; channel?: number };
}

/** `what`: a heartbeat of another form than the vendor's usual one (a registration). */
export type CameraPush = PlateReadPush | { kind: 'heartbeat'; what?: string } | { kind: 'ignored'; what: string };

export interface CameraReply {
  status: number;
  contentType: string;
  body: string;
}

export interface Verdict {
  decision: 'granted' | 'denied' | 'pending';
  reason: string;
}

/** Bytes for one of a camera's RS485 ports, base64 as the Vzenith reply carries them. */
export interface SerialBytes {
  serialChannel: 0 | 1;
  data: string;
  dataLen: number;
}

export interface CameraProtocol {
  readonly vendor: string;
  /** Reads a push. `path` is the request path (Dahua heartbeats are told apart by it). */
  parse(body: Buffer, contentType: string | undefined, path: string): CameraPush;
  /**
   * The answer the camera expects for a push it sent (verdict absent for heartbeats and ignored
   * pushes). `serial`: bytes for the camera's RS485 ports (a lane screen), for vendors whose
   * replies carry them (Vzenith/Alphadigi `serialData`); others never get any (validate sees to it).
   */
  reply(push: CameraPush, verdict?: Verdict, serial?: readonly SerialBytes[]): CameraReply;
}

/** A push that cannot be read; `message` names what was wrong. */
export class PushError extends Error {
  override readonly name = 'PushError';
}

export const json = (value: unknown, status = 200): CameraReply => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});

/** A confidence as cameras send it (98, "98", "98.5", 0.98 from some firmware) as 0-100, or throws. */
export function confidenceOf(value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new PushError(`${where}: expected a confidence 0-100, got ${show(value)}`);
  return n;
}

/** A short, safe rendering of a bad value for an error message. */
export function show(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'nothing';
  else if (typeof value === 'number' && !Number.isFinite(value))
    text = String(value); // 1e999 is Infinity, not "null"
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Array.isArray(value) ? `a list of ${value.length}` : 'an object'; // too deep to write out
    }
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
