/** The camera protocols by vendor name (lpr-camera `vendor`). */
import type { LprCameraConfig } from '../../config/devices.js';
import { dahua } from './dahua.js';
import { generic } from './generic.js';
import { hikvision } from './hikvision.js';
import type { CameraProtocol } from './types.js';
import { vzenith } from './vzenith.js';

export const CAMERA_PROTOCOLS: Record<LprCameraConfig['vendor'], CameraProtocol> = { hikvision, dahua, vzenith, generic };

export type { CameraProtocol, CameraPush, CameraReply, PlateReadPush, Verdict } from './types.js';
export { PushError } from './types.js';
