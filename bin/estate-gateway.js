#!/usr/bin/env node
// Launcher: the gateway runs from compiled JavaScript (dist/), which a Pi starts much faster than
// a TypeScript loader. `npm ci` builds it (the prepare script); `npm run build` rebuilds it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/gateway/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('estate-gateway: dist/ is missing; run `npm run build` (npm ci does it) first\n');
  process.exit(1);
}
const { cli } = await import(entry.href);
cli(process.argv.slice(2));
