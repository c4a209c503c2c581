import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, parseListen } from '../http/server.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const doorSite = (extra: Record<string, unknown> = {}) =>
  siteConfig({
    io: [{ id: 'sim', type: 'sim' }],
    devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' }],
    ...extra,
  });

describe('GET /api/health', () => {
  it('answers without login with the contract shape', async () => {
    gateway = new Gateway({ config: doorSite(), log: silentLog, version: 't', listen: '127.0.0.1:0' });
    await gateway.start();
    const res = await fetch(`http://127.0.0.1:${gateway.address!.port}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      status: 'ok',
      uplink: { connected: false, backlog: 0 },
      devices: { ok: 1, fault: 0 },
      fireAlarm: false,
      boards: { sim: { online: true } },
      buses: {},
      cameras: {},
      meters: {},
      journal: { depth: 0, oldestPendingAgeSec: null, usedBytes: expect.any(Number), maxBytes: 1_000_000_000, condition: 'ok', lastSeq: 1, acksAtRisk: 0 },
    });
  });

  it('is degraded while an upstream broker is configured but not connected', async () => {
    const config = doorSite({ upstream: { mqtt: { url: 'mqtt://127.0.0.1:1' } } });
    gateway = new Gateway({ config, log: silentLog, version: 't', listen: '127.0.0.1:0' });
    await gateway.start();
    const body = (await (await fetch(`http://127.0.0.1:${gateway.address!.port}/api/health`)).json()) as { status: string };
    expect(body.status).toBe('degraded');
  });

  it('a port already in use is a clear HTTP_LISTEN failure, and the outputs are left safe', async () => {
    gateway = new Gateway({ config: doorSite(), log: silentLog, version: 't', listen: '127.0.0.1:0' });
    await gateway.start();
    const second = new Gateway({ config: doorSite(), log: silentLog, version: 't', listen: `127.0.0.1:${gateway.address!.port}` });
    await expect(second.start()).rejects.toMatchObject({ code: 'HTTP_LISTEN' });
    await second.stop();
  });
});

describe('HTTP errors', () => {
  const app = createHttpServer({
    log: silentLog,
    health: () => ({ status: 'ok', uplink: { connected: false, backlog: 0 }, devices: { ok: 0, fault: 0 }, fireAlarm: false }),
  });
  app.post('/echo', async (req) => req.body);

  it('an unknown route is a JSON 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not-found', message: 'no route GET /nope' });
  });

  it('a body over the limit is a JSON 413', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: `{"a":"${'x'.repeat(70_000)}"}` });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'too-large' });
  });

  it('malformed JSON is a JSON 400 that says so', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad-request', message: expect.stringMatching(/JSON/i) });
  });
});

describe('console.listen', () => {
  it('parses host:port, :port, [v6]:port and a bare port', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen(':9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen('8080')).toEqual({ host: '0.0.0.0', port: 8080 });
  });
});
