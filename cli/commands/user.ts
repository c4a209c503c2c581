/**
 * `estate-gateway user add NAME --role staff|installer|admin | list | remove NAME | passwd NAME`
 * (all with --config, which locates the data dir). Passwords come from a prompt that does not
 * echo, or from the first line of stdin when it is not a terminal (scripts, Ansible).
 */
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../../config/load.js';
import { GatewayError } from '../../core/errors.js';
import type { Role } from '../../http/users.js';
import { ROLES, UserStore, checkPasswordRules } from '../../http/users.js';
import type { Output } from './output.js';

export interface UserOptions {
  action: string | undefined;
  name: string | undefined;
  role: string | undefined;
  configFile: string;
  dataDir?: string;
}

export async function userCommand(opts: UserOptions, out: Output, readPassword: (prompt: string) => Promise<string> = promptPassword): Promise<number> {
  const { config } = loadConfigFile(opts.configFile);
  const dataDir = opts.dataDir ?? config.gateway.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const store = new UserStore(dataDir);
  const name = () => {
    if (!opts.name) throw new GatewayError('USAGE', `user ${opts.action}: give the user's name`);
    return opts.name;
  };
  switch (opts.action) {
    case 'add': {
      const user = name();
      if (!opts.role || !ROLES.includes(opts.role as Role))
        throw new GatewayError('USAGE', `--role: expected one of ${ROLES.join('|')}, got "${opts.role ?? ''}"`);
      const password = await newPassword(readPassword);
      await store.add(user, opts.role as Role, password);
      out.stdout(`added ${user} (${opts.role}) to ${store.path}`);
      return 0;
    }
    case 'passwd': {
      const user = name();
      if (!store.get(user)) throw new GatewayError('USAGE', `no user ${user}`);
      await store.passwd(user, await newPassword(readPassword));
      out.stdout(`changed the password of ${user}`);
      return 0;
    }
    case 'remove': {
      const user = name();
      store.remove(user);
      out.stdout(`removed ${user}`);
      return 0;
    }
    case 'list': {
      const users = store.list();
      for (const u of users) out.stdout(`${u.name.padEnd(24)} ${u.role.padEnd(10)} created ${u.createdAt}`);
      if (!users.length) out.stderr('no users yet: estate-gateway user add NAME --role admin --config FILE');
      return 0;
    }
    default:
      throw new GatewayError('USAGE', `user: expected add, list, remove or passwd, got "${opts.action ?? ''}"`);
  }
}

async function newPassword(read: (prompt: string) => Promise<string>): Promise<string> {
  const password = await read('Password: ');
  const rule = checkPasswordRules(password);
  if (rule) throw new GatewayError('USAGE', rule);
  if (process.stdin.isTTY) {
    const again = await read('Again: ');
    if (again !== password) throw new GatewayError('USAGE', 'the two passwords differ');
  }
  return password;
}

let stdinLines: AsyncIterator<string> | undefined;

/** Reads a password: from a terminal without echo, or the next line of piped stdin. */
export async function promptPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    stdinLines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
    const next = await stdinLines.next();
    if (next.done) throw new GatewayError('USAGE', 'expected the password on the first line of stdin');
    return next.value;
  }
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(prompt, (answer) => {
        process.stderr.write('\n');
        resolve(answer);
      });
      muted = true;
    });
  } finally {
    rl.close();
  }
}
