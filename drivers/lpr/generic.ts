/**
 * The gateway's own push format, for cameras and integrations that can be told what to send:
 *
 *   POST /lpr/{deviceId}  Content-Type: application/json
 *   {"plate": "粤B12345", "confidence": 95, "time": "2026-11-22T10:00:00+08:00", "color": "blue"}
 *   {"heartbeat": true}
 *
 * `plate` null or "unknown" records a vehicle without a readable plate; `confidence` (0-100)
 * defaults to 100. The reply is `{"ok": true, "decision": "granted"|"denied"|"pending", "reason": "…"}`.
 */
import { isRecord, parseJsonBody } from './text.js';
import type { CameraProtocol, CameraPush } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

const KEYS = new Set(['plate', 'confidence', 'time', 'color', 'heartbeat']);

export const generic: CameraProtocol = {
  vendor: 'generic',
  parse(body, contentType) {
    const doc = parseJsonBody(body, PushError, contentType);
    if (!isRecord(doc)) throw new PushError(`expected a JSON object, got ${show(doc)}`);
    const unknown = Object.keys(doc).filter((k) => !KEYS.has(k));
    if (unknown.length) throw new PushError(`unknown key ${show(unknown[0])}`);
    if (doc['heartbeat'] !== undefined) {
      if (doc['heartbeat'] !== true) throw new PushError(`heartbeat: expected true, got ${show(doc['heartbeat'])}`);
      return { kind: 'heartbeat' };
    }
    if (!('plate' in doc)) throw new PushError('plate: required (a plate number, or null when none was read)');
    const plate = doc['plate'];
    if (plate !== null && typeof plate !== 'string') throw new PushError(`plate: expected a string or null, got ${show(plate)}`);
    const push: CameraPush = {
      kind: 'read',
      plate,
      confidence: doc['confidence'] === undefined ? (plate ? 100 : 0) : confidenceOf(doc['confidence'], 'confidence'),
    };
    if (doc['time'] !== undefined) {
      if (typeof doc['time'] !== 'string' || Number.isNaN(Date.parse(doc['time'])))
        throw new PushError(`time: expected an ISO 8601 time, got ${show(doc['time'])}`);
      push.cameraTime = doc['time'];
    }
    if (doc['color'] !== undefined) {
      if (typeof doc['color'] !== 'string') throw new PushError(`color: expected a string, got ${show(doc['color'])}`);
      push.plateColor = doc['color'].slice(0, 16);
    }
    return push;
  },
  reply(push, verdict) {
    return json(verdict && push.kind === 'read' ? { ok: true, decision: verdict.decision, reason: verdict.reason } : { ok: true });
  },
};
