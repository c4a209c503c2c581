/**
 * `estate-gateway pass check TOKEN --config FILE [--door ID]`: what a reader would make of a
 * visitor pass, offline and without using it: its signature by the site's pass key, who and which
 * doors it is for, when it is valid, how many uses it has and how many the gateway has recorded,
 * whether it was revoked, and so whether it opens (that door) now. Exit 0 if it would, 1 if not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPublicKey, readPass } from '../../access/passes.js';
import { loadConfigFile } from '../../config/load.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { Output } from './output.js';

export interface PassCheckOptions {
  configFile: string;
  dataDir?: string | undefined;
  token: string;
  door?: string | undefined;
  now?: number;
}

/** What the gateway has recorded of a pass: its uses and whether it was revoked (passes.json). */
function recorded(dataDir: string, id: string): { used: number; revoked: boolean } {
  const file = join(dataDir, 'passes.json');
  if (!existsSync(file)) return { used: 0, revoked: false };
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { used?: Array<[string, number, number]>; revoked?: Array<[string, number]> };
    return { used: state.used?.find(([p]) => p === id)?.[1] ?? 0, revoked: state.revoked?.some(([p]) => p === id) ?? false };
  } catch {
    return { used: 0, revoked: false };
  }
}

export function passCheckCommand(o: PassCheckOptions, out: Output): number {
  const { config } = loadConfigFile(o.configFile);
  const keyFile = config.access.passes?.publicKey;
  if (!keyFile)
    throw new GatewayError('CONFIG_UNREADABLE', 'access.passes.publicKey is not set in the site config: no pass can be checked (and every one is refused)');
  let key: ReturnType<typeof loadPublicKey>;
  try {
    key = loadPublicKey(keyFile);
  } catch (err) {
    throw new GatewayError('CONFIG_UNREADABLE', `access.passes.publicKey: ${keyFile}: ${errorMessage(err)}`);
  }
  const read = readPass(o.token.trim(), key);
  if (!read.ok) {
    out.stdout(
      read.reason === 'bad-signature'
        ? `refused: not signed by the pass key in ${keyFile}${read.pass ? ` (it says it is ${read.pass})` : ''}`
        : 'refused: not a visitor pass (expected EGP1.<claims>.<signature>)',
    );
    return 1;
  }
  const p = read.pass;
  const now = (o.now ?? Date.now()) / 1000;
  const time = (s: number) => new Date(s * 1000).toISOString();
  const { used, revoked } = recorded(o.dataDir ?? config.gateway.dataDir, p.id);
  out.stdout(`pass ${p.id}${p.name ? ` (${p.name})` : ''}: signed by the site's pass key`);
  out.stdout(`doors: ${p.doors.join(', ')}`);
  out.stdout(`valid: ${time(p.from)} to ${time(p.until)}`);
  out.stdout(`uses: ${p.uses}, ${used} recorded by this gateway`);
  const why = revoked
    ? 'it was revoked'
    : now < p.from
      ? `it is not valid until ${time(p.from)}`
      : now >= p.until
        ? `it expired at ${time(p.until)}`
        : o.door !== undefined && !p.doors.includes(o.door)
          ? `it is not for ${o.door}`
          : used >= p.uses
            ? 'its uses are used up'
            : undefined;
  if (why) {
    out.stdout(`refused now: ${why}`);
    return 1;
  }
  out.stdout(`would open ${o.door ?? p.doors.join(' or ')} now (${p.uses - used} use(s) left); this check used none`);
  return 0;
}
