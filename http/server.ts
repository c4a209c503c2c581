/**
 * The local HTTP server (console.listen): the console, the API, /metrics and camera pushes.
 * Every failure is answered as JSON `{"error": code, "message": ...}`.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { LISTEN_PATTERN } from '../schema/sections.js';
import { GatewayError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** API bodies are small; camera pushes with pictures get their own, larger limit per route. */
export const API_BODY_LIMIT = 64 * 1024;

export interface HealthReport {
  status: 'ok' | 'degraded';
  uplink: { connected: boolean; backlog: number };
  devices: { ok: number; fault: number };
  fireAlarm: boolean;
  /** each I/O board: online or not */
  boards?: Record<string, { online: boolean }>;
  /** each Modbus bus: connected or not */
  buses?: Record<string, { connected: boolean }>;
  /** journal figures (absent when running without a journal) */
  journal?: { depth: number; oldestPendingAgeSec: number | null; usedBytes: number; maxBytes: number; condition: string; lastSeq: number; acksAtRisk: number };
  /**
   * Each device kind with a health entry, by its group (`cameras`, `meters`, `readers`,
   * `terminals`, ...): `{ deviceId: entry }`, the entry as the kind's devices give it.
   */
  [group: string]: unknown;
}

export interface HttpDeps {
  log: Logger;
  health(): HealthReport;
  /**
   * Resolves once everything done so far is on disk (the journal's commit, the state files).
   * Every answer to a request that can change something waits for it: see createHttpServer.
   */
  committed?(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = LISTEN_PATTERN.exec(listen);
  if (!m) throw new GatewayError('USAGE', `cannot listen on "${listen}": expected host:port`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(m[2]) };
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
};

export function createHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: API_BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: true,
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) deps.log.error({ err, url: req.url, method: req.method }, 'request failed');
    else deps.log.debug({ url: req.url, method: req.method, code: err.code, message: err.message }, 'request refused');
    const code = STATUS_CODES[status] ?? 'internal';
    void reply.code(status).send({ error: code, message: status >= 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'not-found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  // An acknowledgement is a promise: the answer to anything that can act (a camera push, a
  // console command, a plate list change, a login's audit event) leaves only once what it did is
  // committed, so a power cut after the answer loses nothing that was answered. The output
  // itself moved before (the handler ran first); concurrent requests share one commit. Reads
  // (GET, HEAD) change nothing and do not wait.
  const committed = deps.committed;
  if (committed) {
    app.addHook('onSend', async (req, _reply, payload) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') await committed();
      return payload;
    });
  }

  app.get('/api/health', async () => deps.health());
  return app;
}
