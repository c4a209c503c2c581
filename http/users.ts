/**
 * Console accounts: `users.json` in the data dir (mode 0600, human-readable), passwords hashed
 * with scrypt (node:crypto). There is no default account: until an admin is added with
 * `estate-gateway user add NAME --role admin`, the console says how to create one.
 *
 * The running gateway re-reads the file when it changes, so accounts added or removed with the
 * CLI apply at once.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import { JsonFile } from '../core/json-file.js';
import { trivial } from './weak-passwords.js';

export const ROLES = ['staff', 'installer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Letters of any script (王伟, zhang.wei), digits and . _ @ - */
export const USERNAME = /^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$/u;
export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 1024;

/** scrypt cost: ~50 ms on a Pi 4, 16 MB of memory. */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

const userEntry = z.strictObject({
  name: z.string().regex(USERNAME),
  role: z.enum(ROLES),
  hash: z.string(),
  createdAt: z.string(),
  passwordChangedAt: z.string().optional(),
});
const usersFile = z.strictObject({ users: z.array(userEntry) });
export type User = z.output<typeof userEntry>;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p), expected.length);
  return timingSafeEqual(actual, expected);
}

/** A hash nobody's password matches, checked for unknown names so they take as long as known ones. */
let decoy: Promise<string> | undefined;

export function checkPasswordRules(password: string, user?: string): string | undefined {
  if ([...password].length < MIN_PASSWORD) return `a password needs at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `a password has at most ${MAX_PASSWORD} characters`;
  const why = trivial(password, user);
  if (why) return `that password would be guessed at once (${why}); choose another of at least ${MIN_PASSWORD} characters`;
  return undefined;
}

export class UserStore {
  private users = new Map<string, User>();
  private readonly file: JsonFile<z.output<typeof usersFile>>;
  private loadedMtime = -1;

  constructor(dataDir: string) {
    this.file = new JsonFile(join(dataDir, 'users.json'), { mode: 0o600 });
    this.reload();
  }

  get path(): string {
    return this.file.path;
  }

  /** Reads users.json again if it changed on disk (the CLI edits it while the gateway runs). */
  reload(): void {
    let mtime = 0;
    try {
      mtime = statSync(this.file.path).mtimeMs;
    } catch {
      mtime = 0;
    }
    if (mtime === this.loadedMtime) return;
    const loaded = this.file.load((v) => usersFile.parse(v));
    if (!loaded.ok) throw new GatewayError('CONFIG_UNREADABLE', `${this.file.path} was unreadable (${loaded.reason}); it was moved to ${loaded.movedTo}`);
    this.users = new Map((loaded.value?.users ?? []).map((u) => [u.name, u]));
    this.loadedMtime = mtime;
  }

  list(): User[] {
    this.reload();
    return [...this.users.values()];
  }

  get(name: string): User | undefined {
    this.reload();
    return this.users.get(name);
  }

  hasAdmin(): boolean {
    return this.list().some((u) => u.role === 'admin');
  }

  async add(name: string, role: Role, password: string): Promise<void> {
    if (!USERNAME.test(name))
      throw new GatewayError('USAGE', `user name "${name}": letters (any script), digits and . _ @ - only, starting with a letter or digit, at most 64`);
    const rule = checkPasswordRules(password, name);
    if (rule) throw new GatewayError('USAGE', rule);
    this.reload();
    if (this.users.has(name)) throw new GatewayError('USAGE', `user ${name} exists already (use user passwd to change the password)`);
    this.users.set(name, { name, role, hash: await hashPassword(password), createdAt: new Date().toISOString() });
    this.save();
  }

  async passwd(name: string, password: string): Promise<void> {
    const rule = checkPasswordRules(password, name);
    if (rule) throw new GatewayError('USAGE', rule);
    const user = this.get(name);
    if (!user) throw new GatewayError('USAGE', `no user ${name}`);
    this.users.set(name, { ...user, hash: await hashPassword(password), passwordChangedAt: new Date().toISOString() });
    this.save();
  }

  remove(name: string): void {
    this.reload();
    if (!this.users.delete(name)) throw new GatewayError('USAGE', `no user ${name}`);
    this.save();
  }

  /** The user when name and password match; undefined otherwise (taking as long either way). */
  async authenticate(name: string, password: string): Promise<User | undefined> {
    const user = typeof name === 'string' ? this.get(name) : undefined;
    if (!user || password.length > MAX_PASSWORD) {
      decoy ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password.slice(0, MAX_PASSWORD), await decoy);
      return undefined;
    }
    return (await verifyPassword(password, user.hash)) ? user : undefined;
  }

  private save(): void {
    this.file.saveSync({ users: [...this.users.values()] });
    this.loadedMtime = statSync(this.file.path).mtimeMs;
  }
}
