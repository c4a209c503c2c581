/**
 * The LPR camera kind (`type: lpr-camera`): a camera that pushes plate reads over HTTP
 * (`POST /lpr/{id}`, Dahua also on its fixed `/NotificationInfo/*` paths); the gateway decides and
 * opens the camera's lane. The class is devices/lpr-camera/camera.ts; the vendors' formats
 * (drivers/lpr/, with the XML parser) load with it.
 */
import { z } from 'zod';
import { CAMERA_VENDORS } from '../../drivers/lpr/types.js';
import { addressOrCidr, displayName, pinRef } from '../../schema/sections.js';
import { id, intRange, oneOf, ref } from '../../schema/units.js';
import type { Check } from '../kind.js';
import { kind } from '../kind.js';
import type { PushHealth } from '../push.js';

export { CAMERA_VENDORS };
export const lprCamera = z.strictObject({
  id,
  type: z.literal('lpr-camera'),
  name: displayName,
  vendor: oneOf(CAMERA_VENDORS),
  direction: oneOf(['in', 'out'] as const),
  lane: ref.meta({ description: 'the barrier or bollard this camera opens' }),
  allowFrom: z.array(addressOrCidr, { error: 'expected a list of IP addresses' }).min(1, { error: 'expected at least one address the camera pushes from' }),
  trigger: pinRef.optional().meta({ description: 'output pulsed to trigger a capture when the lane loop sees a car' }),
  minConfidence: intRange(0, 100).default(80),
  repeatWindowSec: intRange(0, 600).default(10),
});
export type LprCameraConfig = z.output<typeof lprCamera>;

export const LPR_CAMERA_STATES = ['waiting', 'online', 'silent'] as const;
export type LprCameraState = (typeof LPR_CAMERA_STATES)[number];

export const LPR_CAMERA = kind({
  schema: lprCamera,
  pins: (d) => [{ role: 'trigger', direction: 'out', ref: d.trigger }],
  lane: false,
  door: false,
  references: (d, at, check) => check.lane(d.lane, `${at}.lane`),
  states: LPR_CAMERA_STATES,
  events: ['vehicle.entry', 'vehicle.exit', 'vehicle.decided'],
  words: {
    'zh-CN': {
      name: '车牌识别相机',
      states: { waiting: '等待首次推送', online: '在线', silent: '长时间无推送' },
      labels: { lastRead: '最近识别' },
      roles: { trigger: '抓拍触发' },
    },
    en: {
      name: 'plate camera',
      states: { waiting: 'waiting for its first push', online: 'online', silent: 'silent for a while' },
      labels: { lastRead: 'last read' },
      roles: { trigger: 'capture trigger' },
    },
  },
  card: [{ show: 'plate-read', field: 'lastRead', label: 'lastRead' }],
  health: { group: 'cameras', always: true },
  doctor: async (cameras, ctx) => {
    const checks: Check[] = [];
    const seen = ctx.health?.['cameras'] as Record<string, PushHealth> | undefined;
    for (const d of cameras) {
      const url = `http://<this gateway's address>:${ctx.port}/lpr/${d.id}`;
      const hint = `set the camera's HTTP push (alarm server) to ${url}${d.vendor === 'dahua' ? ' or its ITSAPI platform address to this gateway' : ''}; it must push from ${d.allowFrom.join(', ')} (allowFrom)`;
      if (!ctx.health) {
        checks.push({ name: `camera ${d.id}`, result: 'skip', detail: `${d.vendor}: the gateway is not running, so no push can have arrived`, hint });
        continue;
      }
      const cam = seen?.[d.id];
      if (cam?.lastSeenAt)
        checks.push({
          name: `camera ${d.id}`,
          result: cam.state === 'online' ? 'ok' : 'warn',
          detail: `${d.vendor}: last push or heartbeat ${cam.lastSeenAt}`,
        });
      else checks.push({ name: `camera ${d.id}`, result: 'FAIL', detail: `${d.vendor}: nothing received since the gateway started`, hint });
    }
    return checks;
  },
  push: { path: 'lpr', what: 'camera', fixed: { path: '/NotificationInfo/:notification', takes: (c) => c.vendor === 'dahua' } },
  load: async () => {
    const [{ LprCamera }, { CAMERA_PROTOCOLS }] = await Promise.all([import('./camera.js'), import('../../drivers/lpr/index.js')]);
    return {
      create: (c, ctx, deps) =>
        new LprCamera(c, ctx, {
          protocol: CAMERA_PROTOCOLS[c.vendor],
          access: deps.access,
          ...(deps.actuated ? { actuated: deps.actuated } : {}),
          lane: () => deps.lane(c.lane),
        }),
    };
  },
});
