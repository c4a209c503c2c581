/**
 * Pushes over HTTP from the devices that send them (LPR cameras, access terminals): each kind
 * with a `push` declaration (devices/<kind>/index.ts) gets `POST /{path}/{deviceId}` in its
 * vendors' own formats, and its fixed vendor paths (Dahua's `/NotificationInfo/*`: TollgateInfo,
 * KeepAlive, DeviceInfo, ...) matched to a device by the address they come from.
 *
 * Pushes from an address the camera's `allowFrom` does not list are refused (403) before their
 * body is read; bodies over CAMERA_BODY_LIMIT get 413; bodies that cannot be read get 400 with
 * the reason. Each is counted on the camera. A push that is read is decided at once (the lane
 * moves), and answered once its events are committed (the server's onSend hook, gateway/http.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PushSource } from '../devices/push.js';
import { PushError } from '../drivers/lpr/types.js';
import { errorMessage } from '../core/errors.js';
import { redactSecrets } from '../core/privacy.js';
import type { Logger } from '../core/log.js';

/** Two JPEG pictures from a 4 MP camera fit with room to spare; a Pi keeps a few in memory easily. */
export const CAMERA_BODY_LIMIT = 4 * 1024 * 1024;

/** One kind's push routes and its devices (built from the kind's `push` declaration). */
export interface PushRoute {
  /** `POST /{path}/{deviceId}` */
  path: string;
  /** what the device is called in a refusal */
  what: string;
  sources: ReadonlyMap<string, PushSource>;
  /** a vendor path without a device id, and the devices that may take it (by sender address) */
  fixed?: { path: string; sources: readonly PushSource[] };
}

export interface PushRouteDeps {
  log: Logger;
  routes: readonly PushRoute[];
  /** pushes refused because no device lists their address (fixed paths), or for an unknown id */
  unmatched(result: 'refused' | 'unknown-camera'): void;
  /** a device's push is being handled (a car at a lane, a person at a terminal): the uplink gives way */
  pushed?(): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    camera?: PushSource;
  }
}

export async function registerPushRoutes(app: FastifyInstance, deps: PushRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    // Cameras send XML, JSON, multipart and text/plain with JSON in it: read every body as bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CAMERA_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status === 413) {
        req.camera?.count('too-large');
        deps.log.warn({ camera: req.camera?.id, url: req.url }, 'camera push over the size limit refused');
        return reply.code(413).send({ error: 'too-large', message: `camera pushes are limited to ${CAMERA_BODY_LIMIT} bytes` });
      }
      if (status < 500) {
        req.camera?.count('malformed');
        return reply.code(status).send({ error: 'bad-request', message: redactSecrets(err.message) });
      }
      deps.log.error({ err: errorMessage(err), camera: req.camera?.id }, 'camera push failed');
      return reply.code(500).send({ error: 'internal', message: 'internal error' });
    });

    const byId =
      (sources: ReadonlyMap<string, PushSource>, what: string) => async (req: FastifyRequest<{ Params: { deviceId: string } }>, reply: FastifyReply) => {
        const camera = sources.get(req.params.deviceId);
        if (!camera) {
          deps.unmatched('unknown-camera');
          return reply.code(404).send({ error: 'not-found', message: `no ${what} ${req.params.deviceId}` });
        }
        req.camera = camera;
        if (!camera.accepts(address(req))) return refuse(camera, req, reply);
        return undefined;
      };

    const byAddress = (sources: readonly PushSource[], path: string) => async (req: FastifyRequest, reply: FastifyReply) => {
      const from = address(req);
      const camera = sources.find((c) => c.accepts(from));
      if (!camera) {
        deps.unmatched('refused');
        deps.log.warn({ address: from, url: req.url }, `push to ${path} from an address no device that takes it lists in allowFrom`);
        return reply.code(403).send({ error: 'forbidden', message: `no device that takes ${path} accepts pushes from ${from}` });
      }
      req.camera = camera;
      return undefined;
    };

    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      const camera = req.camera;
      if (!camera) return reply.code(404).send({ error: 'not-found', message: 'no camera' });
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const path = req.url.split('?')[0] ?? req.url;
      deps.pushed?.();
      try {
        const encoding = req.headers['content-encoding'];
        const answer = camera.handlePush(body, req.headers['content-type'], path, address(req), typeof encoding === 'string' ? encoding : undefined);
        return reply.code(answer.status).type(answer.contentType).send(answer.body);
      } catch (err) {
        if (!(err instanceof PushError)) throw err;
        camera.count('malformed');
        // the reason may quote the body, and a body may carry the device's password: never in clear
        const reason = redactSecrets(err.message);
        deps.log.warn({ camera: camera.id, reason, bytes: body.length }, 'camera push could not be read');
        return reply.code(400).send({ error: 'malformed', message: reason });
      }
    };

    for (const route of deps.routes) {
      scope.post<{ Params: { deviceId: string } }>(`/${route.path}/:deviceId`, { onRequest: byId(route.sources, route.what) }, handle);
      // Dahua's TollgateInfo (plates), KeepAlive, DeviceInfo (registration) and whatever else it
      // notifies: matched to a device by address and answered as it expects.
      if (route.fixed) scope.post(route.fixed.path, { onRequest: byAddress(route.fixed.sources, route.fixed.path) }, handle);
    }
  });

  function refuse(camera: PushSource, req: FastifyRequest, reply: FastifyReply) {
    camera.count('refused');
    deps.log.warn({ camera: camera.id, address: address(req) }, 'camera push from an address not in allowFrom refused');
    return reply.code(403).send({ error: 'forbidden', message: `${camera.id} does not accept pushes from ${address(req)}` });
  }
}

function address(req: FastifyRequest): string {
  return req.socket.remoteAddress ?? req.ip;
}
