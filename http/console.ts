/**
 * The staff console at `/`: a static page (console/index.html), its stylesheet and its script
 * modules (console/app.js, console/i18n.js and its words), no build step, phone-sized, zh-CN first with
 * English. It talks to the API only. Nothing inline, so the page's CSP allows only its own files.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { packagePath } from '../core/paths.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

const FILES: Array<[url: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/console/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/console/i18n.js', 'i18n.js', 'text/javascript; charset=utf-8'],
  ['/console/dom.js', 'dom.js', 'text/javascript; charset=utf-8'],
  ['/console/car-parks.js', 'car-parks.js', 'text/javascript; charset=utf-8'],
  ['/console/words-zh.js', 'words-zh.js', 'text/javascript; charset=utf-8'],
  ['/console/words-en.js', 'words-en.js', 'text/javascript; charset=utf-8'],
  ['/console/app.css', 'app.css', 'text/css; charset=utf-8'],
];

export function registerConsole(app: FastifyInstance): void {
  // Browsers ask for it on every page; there is none, and that is not an error.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  for (const [url, file, type] of FILES) {
    const body = readFileSync(packagePath('console', file));
    app.get(url, async (_req, reply) => reply.headers({ ...SECURITY_HEADERS, 'content-type': type }).send(body));
  }
}
