/**
 * Dahua ITSAPI pushes: plate reads to `/NotificationInfo/TollgateInfo` (or `/lpr/{id}`),
 * heartbeats to `/NotificationInfo/KeepAlive`. The camera resends until it is answered
 * `{"Result": true}`, so every push that was read is answered so, whatever the decision.
 */
import { isRecord, parseJsonBody } from './text.js';
import type { CameraProtocol, CameraPush } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

export const dahua: CameraProtocol = {
  vendor: 'dahua',
  parse(body, _contentType, path) {
    if (/\/KeepAlive$/i.test(path)) return { kind: 'heartbeat' };
    const doc = parseJsonBody(body, PushError);
    if (!isRecord(doc)) throw new PushError(`expected a JSON object, got ${show(doc)}`);
    const picture = doc['Picture'];
    if (!isRecord(picture)) {
      if ('KeepAlive' in doc || 'Active' in doc) return { kind: 'heartbeat' };
      throw new PushError('expected Picture.Plate in the body');
    }
    const plate = picture['Plate'];
    if (!isRecord(plate)) throw new PushError('expected Picture.Plate in the body');
    const number = plate['PlateNumber'];
    if (number !== undefined && number !== null && typeof number !== 'string') {
      throw new PushError(`Picture.Plate.PlateNumber: expected a string, got ${show(number)}`);
    }
    const exists = plate['IsExist'] !== false;
    const read = exists && typeof number === 'string' ? number : null;
    const push: CameraPush = {
      kind: 'read',
      plate: read,
      confidence: plate['Confidence'] === undefined ? (read ? 100 : 0) : confidenceOf(plate['Confidence'], 'Picture.Plate.Confidence'),
    };
    const snap = picture['SnapInfo'];
    if (isRecord(snap) && typeof snap['AccurateTime'] === 'string') push.cameraTime = snap['AccurateTime'];
    if (typeof plate['PlateColor'] === 'string') push.plateColor = plate['PlateColor'];
    return push;
  },
  reply() {
    return json({ Result: true });
  },
};
