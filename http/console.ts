/**
 * The staff console at `/`: one static page (console/index.html: HTML, CSS and script in one
 * file, no build step), phone-sized, zh-CN first with English. It talks to the API only.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { packagePath } from '../core/paths.js';

export function registerConsole(app: FastifyInstance): void {
  const page = readFileSync(packagePath('console', 'index.html'));
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  };
  app.get('/', async (_req, reply) => reply.headers(headers).send(page));
}
