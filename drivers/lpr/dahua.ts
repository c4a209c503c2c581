/**
 * Dahua ITSAPI pushes: plate reads to `/NotificationInfo/TollgateInfo` (or `/lpr/{id}`),
 * heartbeats to `/NotificationInfo/KeepAlive`, the camera's registration to
 * `/NotificationInfo/DeviceInfo` (its name, id, model and address, sent when it connects), and
 * other notifications some models send (`ParkingInfo`, ...). The camera resends until it is
 * answered `{"Result": true}`, so every push that was read is answered so, whatever the
 * decision; the registration and the others get `{"Result": true, "Message": "Success"}`.
 */
import { isRecord, parseJsonBody } from './text.js';
import type { CameraProtocol, CameraPush } from './types.js';
import { PushError, confidenceOf, json, show } from './types.js';

export const dahua: CameraProtocol = {
  vendor: 'dahua',
  parse(body, contentType, path) {
    const notification = /\/NotificationInfo\/([A-Za-z]+)$/i.exec(path)?.[1];
    if (notification && /^KeepAlive$/i.test(notification)) return { kind: 'heartbeat' };
    if (notification && /^DeviceInfo$/i.test(notification)) return { kind: 'heartbeat', what: 'DeviceInfo' };
    if (notification && !/^TollgateInfo$/i.test(notification)) return { kind: 'ignored', what: notification };
    const doc = parseJsonBody(body, PushError, contentType);
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
  reply(push) {
    // Plate reads and KeepAlive as the contract shows; the registration and the rest with the
    // Message field Dahua's own platform answers with.
    return push.kind === 'read' || (push.kind === 'heartbeat' && !push.what) ? json({ Result: true }) : json({ Result: true, Message: 'Success' });
  },
};
