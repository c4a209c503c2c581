/**
 * The `AlarmInfoPlate` JSON of Vzenith (臻识), Alphadigi (芊熠) and similar estate cameras. The
 * reply carries the gate decision: `info: "ok"` makes the camera open its own barrier output,
 * anything else leaves it shut. Heartbeats arrive as `{"heartbeat": {...}}`.
 */
import { isRecord, parseJsonBody } from './text.js';
import type { CameraProtocol, CameraPush, Verdict } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

const COLORS: Record<number, string> = { 0: 'unknown', 1: 'blue', 2: 'yellow', 3: 'white', 4: 'black', 5: 'green' };

export const vzenith: CameraProtocol = {
  vendor: 'vzenith',
  parse(body) {
    const doc = parseJsonBody(body, PushError);
    if (!isRecord(doc)) throw new PushError(`expected a JSON object, got ${show(doc)}`);
    if ('heartbeat' in doc) return { kind: 'heartbeat' };
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
      confidence:
        result['confidence'] === undefined ? (license ? 100 : 0) : confidenceOf(result['confidence'], 'AlarmInfoPlate.result.PlateResult.confidence'),
    };
    const echo: { plateid?: number; channel?: number } = {};
    if (Number.isSafeInteger(result['plateid'])) echo.plateid = result['plateid'] as number;
    if (Number.isSafeInteger(alarm['channel'])) echo.channel = alarm['channel'] as number;
    push.echo = echo;
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
  reply(push, verdict?: Verdict) {
    if (push.kind !== 'read') return json({ Response_AlarmInfoPlate: { info: 'ok' } });
    return json({
      Response_AlarmInfoPlate: {
        info: verdict?.decision === 'granted' ? 'ok' : 'no',
        plateid: push.echo?.plateid ?? 0,
        channelNum: push.echo?.channel ?? 0,
      },
    });
  },
};
