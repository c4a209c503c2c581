/** The camera protocols by vendor name (lpr-camera `vendor`). */
import { dahua } from './dahua.js';
import { generic } from './generic.js';
import { hikvision } from './hikvision.js';
import type { CameraProtocol, CameraVendor } from './types.js';
import { vzenith } from './vzenith.js';

export const CAMERA_PROTOCOLS: Record<CameraVendor, CameraProtocol> = { hikvision, dahua, vzenith, generic };

export type { CameraProtocol, CameraPush, CameraReply, PlateReadPush, Verdict } from './types.js';
export { CAMERA_VENDORS, PushError } from './types.js';
