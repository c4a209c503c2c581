#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1
// Launcher: the gateway runs from one bundle of the compiled JavaScript (dist/bundle/), which a Pi
// starts much faster than a TypeScript loader or ~900 separate modules. `npm ci` builds it (the
// prepare script); `npm run build` rebuilds it.
//
// The first line sets what only takes effect before any script runs: a 1 MB young generation
// instead of V8's default 16 MB (a gateway makes small objects at a steady pace; ~10 MB less
// resident for a little more GC work), and two glibc malloc arenas instead of one per thread
// (~3 MB less). systemd, `npm start` and the benchmarks run this file as an executable, so they
// get both; `node bin/estate-gateway.js` runs without them.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22+ keeps compiled code between starts (in NODE_COMPILE_CACHE, which the systemd unit
// points at the state directory); a Pi then starts noticeably faster. Node 20 has no such API.
module.enableCompileCache?.();

const entry = new URL('../dist/bundle/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('estate-gateway: dist/ is missing; run `npm run build` (npm ci does it) first\n');
  process.exit(1);
}
const { cli } = await import(entry.href);
cli(process.argv.slice(2));
