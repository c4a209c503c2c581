/**
 * The gateway as systemd starts it: the executable itself, so its shebang's node options (the
 * young-generation cap) apply exactly as in production. The node that runs the bench comes first
 * on PATH, so `env -S node` picks the same version.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { packagePath } from '../core/paths.js';

export const GATEWAY_BIN = packagePath('bin', 'estate-gateway.js');

export function launchGateway(args: string[], options: SpawnOptions = {}): ChildProcess {
  const env = { ...process.env, ...options.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  return spawn(GATEWAY_BIN, args, { ...options, env });
}

/** Another script run with the launcher's options (its shebang's environment and node flags). */
export function launchLikeGateway(script: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const line = readFileSync(GATEWAY_BIN, 'utf8').split('\n')[0]!;
  const parts = line.replace(/^#!\/usr\/bin\/env -S /, '').split(/\s+/);
  const env = { ...process.env, ...options.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  return spawn('/usr/bin/env', [...parts, script, ...args], { ...options, env });
}
