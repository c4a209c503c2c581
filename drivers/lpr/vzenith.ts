/**
 * The HTTP push protocol of Vzenith (臻识), Alphadigi (芊熠) and similar estate cameras, as the
 * vendor's protocol document lays it out (docs/vendors.md):
 *
 * - a plate read is `{"AlarmInfoPlate": {..., "result": {"PlateResult": {...}}}}`. The reply
 *   carries the gate decision: `info: "ok"` makes the camera open its own barrier output, so it
 *   is sent only for a granted car, never for a refused one or anything else.
 * - after an outage the camera resends what it read meanwhile, one record at a time, marked
 *   `isoffline: 1` with its `plateid`. Each must be answered with `ContinuePushOffline`
 *   (`plateid`, `continue: 1`) or the rest of its backlog never arrives; those cars are long
 *   gone, so the records are kept as late reads and move nothing.
 * - the registration and heartbeat ("普通心跳", and comet polling) is a `multipart/form-data`
 *   post of `device_name`, `ipaddr`, `port`, `user_name`, `pass_wd`, `serialno`, `channel_num`;
 *   older firmware sends `{"heartbeat": {...}}`. Both are heartbeats.
 * - IO-input (`AlarmGioIn`), RS485 (`SerialData`) and snapshot (`TriggerImage`) pushes are
 *   recorded as seen and otherwise ignored.
 */
import { parseMultipart } from './multipart.js';
import { isRecord, parseJsonBody } from './text.js';
import type { CameraProtocol, CameraPush, SerialBytes, Verdict } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

const COLORS: Record<number, string> = { 0: 'unknown', 1: 'blue', 2: 'yellow', 3: 'white', 4: 'black', 5: 'green' };
/** Other pushes the camera can be set to send, which carry no plate. */
const OTHER_PUSHES = ['AlarmGioIn', 'SerialData', 'TriggerImage'];
/** Fields of the multipart registration/heartbeat (any one of them makes it one). */
const HEARTBEAT_FIELDS = new Set(['device_name', 'ipaddr', 'serialno', 'channel_num', 'port', 'user_name']);

export const vzenith: CameraProtocol = {
  vendor: 'vzenith',
  parse(body, contentType) {
    if (/^\s*multipart\/form-data/i.test(contentType ?? '')) {
      const parts = parseMultipart(body, contentType ?? '');
      if (parts.some((p) => p.name !== undefined && HEARTBEAT_FIELDS.has(p.name))) return { kind: 'heartbeat' };
      throw new PushError(`multipart body without the heartbeat's fields (parts: ${parts.map((p) => p.name ?? '?').join(', ')})`);
    }
    const doc = parseJsonBody(body, PushError, contentType);
    if (!isRecord(doc)) throw new PushError(`expected a JSON object, got ${show(doc)}`);
    if ('heartbeat' in doc) return { kind: 'heartbeat' };
    const other = OTHER_PUSHES.find((k) => k in doc);
    if (other) return { kind: 'ignored', what: other };
    const alarm = doc['AlarmInfoPlate'];
    if (!isRecord(alarm)) throw new PushError('expected AlarmInfoPlate or heartbeat in the body');
    const result = isRecord(alarm['result']) ? alarm['result']['PlateResult'] : undefined;
    if (!isRecord(result)) throw new PushError('expected AlarmInfoPlate.result.PlateResult');
    const license = result['license'];
    if (license !== undefined && license !== null && typeof license !== 'string') {
      throw new PushError(`AlarmInfoPlate.result.PlateResult.license: expected a string, got ${show(license)}`);
    }
    const push: CameraPush = {
      kind: 'read',
      plate: license ?? null,
      confidence: result['confidence'] === undefined ? (license ? 100 : 0) : confidenceOf(result['confidence'], 'AlarmInfoPlate.result.PlateResult.confidence'),
    };
    const echo: { plateid?: number; channel?: number } = {};
    if (Number.isSafeInteger(result['plateid'])) echo.plateid = result['plateid'] as number;
    if (Number.isSafeInteger(alarm['channel'])) echo.channel = alarm['channel'] as number;
    push.echo = echo;
    if (result['isoffline'] === 1 || result['isoffline'] === '1') push.retransmission = true;
    const color = result['colorType'];
    if (typeof color === 'number' && COLORS[color]) push.plateColor = COLORS[color];
    const ts = isRecord(result['timeStamp']) ? result['timeStamp']['Timeval'] : undefined;
    if (isRecord(ts) && typeof ts['sec'] === 'number' && Number.isFinite(ts['sec'])) {
      const ms = ts['sec'] * 1000 + (typeof ts['usec'] === 'number' ? Math.floor(ts['usec'] / 1000) : 0);
      const date = new Date(ms);
      if (!Number.isNaN(date.getTime())) push.cameraTime = date.toISOString();
    }
    return push;
  },
  reply(push, verdict?: Verdict, serial?: readonly SerialBytes[]) {
    // Bytes for the lane screen ride along in any reply (document section 2.6.2).
    const serialData = serial?.length ? { serialData: serial } : {};
    // Heartbeats (comet polling acts on the reply) and other pushes: nothing to do, no "ok".
    if (push.kind !== 'read') return json({ Response_AlarmInfoPlate: { ...serialData } });
    if (push.retransmission) {
      // An offline record: take it, and ask for the next one. Never "ok": that car is gone.
      return json({ Response_AlarmInfoPlate: { ContinuePushOffline: { plateid: push.echo?.plateid ?? 0, continue: 1 }, ...serialData } });
    }
    return json({
      Response_AlarmInfoPlate: {
        info: verdict?.decision === 'granted' ? 'ok' : 'no',
        plateid: push.echo?.plateid ?? 0,
        channelNum: push.echo?.channel ?? 0,
        ...serialData,
      },
    });
  },
};
