/** Sessions: log in (a slower answer to a wrong password, locks after many), who am I, log out; whether anyone can log in yet. */
import type { Api } from './index.js';
import { SESSION_COOKIE, SESSION_IDLE_MS } from '../auth.js';

export function registerSessionApi(api: Api): void {
  api.app.post('/api/session', async (req, reply) => {
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    const username = body && typeof body === 'object' ? body.username : undefined;
    const password = body && typeof body === 'object' ? body.password : undefined;
    if (typeof username !== 'string' || typeof password !== 'string' || username.length > 64 || password.length > 1024) {
      return api.deny(reply, 400, 'bad-request', 'expected {"username": "...", "password": "..."}');
    }
    const address = req.socket.remoteAddress ?? req.ip;
    const result = await api.deps.sessions.login(username, password, address);
    if (result.ok) {
      api.deps.audit('audit.login', { user: result.session.user, address });
      const secure = req.protocol === 'https' ? '; Secure' : '';
      void reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${result.session.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_IDLE_MS / 1000}${secure}`,
      );
      return { token: result.session.token, user: result.session.user, role: result.session.role };
    }
    api.deps.audit('audit.login-failed', { user: username.slice(0, 64), address, reason: result.reason });
    if (result.status === 429) {
      void reply.header('retry-after', String(result.retryAfterSec));
      return api.deny(reply, 429, 'too-many-requests', `too many failed logins; try again in ${result.retryAfterSec} s`);
    }
    await new Promise((r) => api.deps.clock.setTimeout(() => r(undefined), result.delayMs));
    return api.deny(reply, 401, 'unauthorized', 'wrong user name or password');
  });

  api.app.get('/api/session', async (req, reply) => {
    const session = api.authorise(req, reply);
    if (!session) return reply;
    return { user: session.user, role: session.role };
  });

  api.app.delete('/api/session', async (req, reply) => {
    const session = api.authorise(req, reply);
    if (!session) return reply;
    api.deps.sessions.logout(session.token);
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { ok: true };
  });

  /** Whether anyone can log in yet (the console's first screen asks). */
  api.app.get('/api/setup', async () => ({ hasAdmin: api.deps.users.hasAdmin(), hasUsers: api.deps.users.list().length > 0 }));

  api.app.get('/api/site', async (req, reply) => {
    if (!api.authorise(req, reply)) return reply;
    return api.deps.site;
  });
}
