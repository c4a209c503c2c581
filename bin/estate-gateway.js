#!/usr/bin/env node
// Launcher: the gateway runs from compiled JavaScript (dist/), which a Pi starts much faster than
// a TypeScript loader. `npm ci` builds it (the prepare script); `npm run build` rebuilds it.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { setFlagsFromString } from 'node:v8';

// Node 22+ keeps compiled code between starts (in NODE_COMPILE_CACHE, which the systemd unit
// points at the state directory); a Pi then starts noticeably faster. Node 20 has no such API.
module.enableCompileCache?.();

// A gateway makes small objects at a steady pace: a 1 MB young generation (V8's default grows
// to 16 MB) keeps the resident size down by tens of MB on a 1 GB Pi, for a little more GC work.
if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) setFlagsFromString('--max-semi-space-size=1');

const entry = new URL('../dist/gateway/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('estate-gateway: dist/ is missing; run `npm run build` (npm ci does it) first\n');
  process.exit(1);
}
const { cli } = await import(entry.href);
cli(process.argv.slice(2));
