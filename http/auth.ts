/**
 * Console sessions: `POST /api/session` trades a name and password for a token (also set as an
 * HttpOnly, SameSite=Strict cookie). Wrong passwords are slowed (a growing delay before the
 * answer) and locked out: 5 failures in a row lock the account for 5 minutes, 20 failures from one
 * address in 15 minutes lock the address for 15; locked attempts get 429 with Retry-After and their
 * password is not even checked. Sessions live in memory and end after 12 idle hours.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Role, User, UserStore } from './users.js';

export const SESSION_COOKIE = 'eg_session';
export const SESSION_IDLE_MS = 12 * 3600_000;
export const ACCOUNT_MAX_FAILURES = 5;
export const ACCOUNT_LOCK_MS = 5 * 60_000;
export const ADDRESS_MAX_FAILURES = 20;
export const ADDRESS_WINDOW_MS = 15 * 60_000;
const MAX_SESSIONS = 1000;
const MAX_TRACKED = 10_000;

export interface Session {
  token: string;
  user: string;
  role: Role;
  lastSeen: number;
}

export type LoginResult =
  | { ok: true; session: Session }
  | { ok: false; status: 401; reason: 'bad-credentials'; delayMs: number }
  | { ok: false; status: 429; reason: 'account-locked' | 'address-locked'; retryAfterSec: number };

interface Failures {
  count: number;
  first: number;
  lockedUntil: number;
}

export const ROLE_RANK: Record<Role, number> = { staff: 1, installer: 2, admin: 3 };

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly accounts = new Map<string, Failures>();
  private readonly addresses = new Map<string, Failures>();

  constructor(
    private readonly users: UserStore,
    private readonly clock: Clock,
  ) {}

  async login(name: string, password: string, address: string): Promise<LoginResult> {
    const now = this.clock.now();
    const byAddress = this.addresses.get(address);
    if (byAddress && byAddress.lockedUntil > now) return locked('address-locked', byAddress.lockedUntil - now);
    const byAccount = this.accounts.get(name);
    if (byAccount && byAccount.lockedUntil > now) return locked('account-locked', byAccount.lockedUntil - now);

    const user: User | undefined = await this.users.authenticate(name, password);
    if (user) {
      this.accounts.delete(name);
      const session: Session = { token: randomBytes(32).toString('base64url'), user: user.name, role: user.role, lastSeen: now };
      if (this.sessions.size >= MAX_SESSIONS) this.forgetOldest();
      this.sessions.set(session.token, session);
      return { ok: true, session };
    }
    const account = this.fail(this.accounts, name, now, ACCOUNT_LOCK_MS, ACCOUNT_MAX_FAILURES, ACCOUNT_LOCK_MS);
    const from = this.fail(this.addresses, address, now, ADDRESS_WINDOW_MS, ADDRESS_MAX_FAILURES, ADDRESS_WINDOW_MS);
    if (from.lockedUntil > now) return locked('address-locked', from.lockedUntil - now);
    if (account.lockedUntil > now) return locked('account-locked', account.lockedUntil - now);
    // Each failure in a row makes the next answer slower: 250 ms, 500 ms, ... up to 3 s.
    return { ok: false, status: 401, reason: 'bad-credentials', delayMs: Math.min(3000, 250 * account.count) };
  }

  /** The session of a token, refreshed; undefined when unknown or idle too long. */
  lookup(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const session = this.sessions.get(token);
    if (!session) return undefined;
    const now = this.clock.now();
    if (now - session.lastSeen > SESSION_IDLE_MS) {
      this.sessions.delete(token);
      return undefined;
    }
    // A removed account, or a changed role, applies to its open sessions at once.
    const user = this.users.get(session.user);
    if (!user) {
      this.sessions.delete(token);
      return undefined;
    }
    session.role = user.role;
    session.lastSeen = now;
    return session;
  }

  logout(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }

  get count(): number {
    return this.sessions.size;
  }

  private fail(map: Map<string, Failures>, key: string, now: number, windowMs: number, max: number, lockMs: number): Failures {
    let f = map.get(key);
    if (!f || now - f.first > windowMs) f = { count: 0, first: now, lockedUntil: 0 };
    f.count++;
    if (f.count >= max) f.lockedUntil = now + lockMs;
    if (!map.has(key) && map.size >= MAX_TRACKED) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(key, f);
    return f;
  }

  private forgetOldest(): void {
    let oldest: Session | undefined;
    for (const s of this.sessions.values()) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
    if (oldest) this.sessions.delete(oldest.token);
  }
}

function locked(reason: 'account-locked' | 'address-locked', ms: number): LoginResult {
  return { ok: false, status: 429, reason, retryAfterSec: Math.max(1, Math.ceil(ms / 1000)) };
}
