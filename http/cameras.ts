/**
 * Camera pushes over HTTP: `POST /lpr/{deviceId}` in each vendor's own format, and Dahua's fixed
 * `/NotificationInfo/*` paths (TollgateInfo, KeepAlive, DeviceInfo, ...), matched to a Dahua
 * camera by the address they come from.
 *
 * Pushes from an address the camera's `allowFrom` does not list are refused (403) before their
 * body is read; bodies over CAMERA_BODY_LIMIT get 413; bodies that cannot be read get 400 with
 * the reason. Each is counted on the camera. A push that is read is decided at once (the lane
 * moves), and answered once its events are committed (the server's onSend hook, gateway/http.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LprCamera, PushResult } from '../devices/lpr-camera.js';
import type { CameraReply } from '../drivers/lpr/index.js';
import { PushError } from '../drivers/lpr/index.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Two JPEG pictures from a 4 MP camera fit with room to spare; a Pi keeps a few in memory easily. */
export const CAMERA_BODY_LIMIT = 4 * 1024 * 1024;

/** A device that pushes to the gateway over HTTP: an LPR camera or an access terminal. */
export interface PushSource {
  readonly id: string;
  accepts(address: string): boolean;
  count(result: PushResult): void;
  /** reads, acts, returns the vendor's expected answer; throws PushError when the body cannot be read */
  handlePush(body: Buffer, contentType: string | undefined, path: string, address: string, contentEncoding?: string): CameraReply;
}

export interface CameraRouteDeps {
  log: Logger;
  cameras(): ReadonlyMap<string, LprCamera>;
  /** face and card terminals (`POST /acs/{id}`) */
  terminals(): ReadonlyMap<string, PushSource>;
  /** pushes refused because no camera lists their address (Dahua's fixed paths, unknown ids) */
  unmatched(result: 'refused' | 'unknown-camera'): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    camera?: PushSource;
  }
}

export async function registerCameraRoutes(app: FastifyInstance, deps: CameraRouteDeps): Promise<void> {
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
        return reply.code(status).send({ error: 'bad-request', message: err.message });
      }
      deps.log.error({ err: errorMessage(err), camera: req.camera?.id }, 'camera push failed');
      return reply.code(500).send({ error: 'internal', message: 'internal error' });
    });

    const byId = (sources: () => ReadonlyMap<string, PushSource>, what: string) => async (req: FastifyRequest<{ Params: { deviceId: string } }>, reply: FastifyReply) => {
      const camera = sources().get(req.params.deviceId);
      if (!camera) {
        deps.unmatched('unknown-camera');
        return reply.code(404).send({ error: 'not-found', message: `no ${what} ${req.params.deviceId}` });
      }
      req.camera = camera;
      if (!camera.accepts(address(req))) return refuse(camera, req, reply);
      return undefined;
    };

    const dahuaByAddress = async (req: FastifyRequest, reply: FastifyReply) => {
      const from = address(req);
      const camera = [...deps.cameras().values()].find((c) => c.config.vendor === 'dahua' && c.accepts(from));
      if (!camera) {
        deps.unmatched('refused');
        deps.log.warn({ address: from, url: req.url }, 'Dahua push from an address no dahua camera lists in allowFrom');
        return reply.code(403).send({ error: 'forbidden', message: `no dahua camera accepts pushes from ${from}` });
      }
      req.camera = camera;
      return undefined;
    };

    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      const camera = req.camera;
      if (!camera) return reply.code(404).send({ error: 'not-found', message: 'no camera' });
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const path = req.url.split('?')[0] ?? req.url;
      try {
        const encoding = req.headers['content-encoding'];
        const answer = camera.handlePush(body, req.headers['content-type'], path, address(req), typeof encoding === 'string' ? encoding : undefined);
        return reply.code(answer.status).type(answer.contentType).send(answer.body);
      } catch (err) {
        if (!(err instanceof PushError)) throw err;
        camera.count('malformed');
        deps.log.warn({ camera: camera.id, reason: err.message, bytes: body.length }, 'camera push could not be read');
        return reply.code(400).send({ error: 'malformed', message: err.message });
      }
    };

    scope.post<{ Params: { deviceId: string } }>('/lpr/:deviceId', { onRequest: byId(deps.cameras, 'camera') }, handle);
    // Face and card terminals that decide by themselves push what they did here.
    scope.post<{ Params: { deviceId: string } }>('/acs/:deviceId', { onRequest: byId(deps.terminals, 'access terminal') }, handle);
    // TollgateInfo (plates), KeepAlive, DeviceInfo (registration) and whatever else a Dahua
    // camera notifies: all matched to the camera by address and answered as it expects.
    scope.post('/NotificationInfo/:notification', { onRequest: dahuaByAddress }, handle);
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
