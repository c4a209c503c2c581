#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --expose-gc
// Launcher: the gateway runs from one bundle of the compiled JavaScript (dist/bundle/), which a Pi
// starts much faster than a TypeScript loader or ~900 separate modules. `npm ci` builds it (the
// prepare script); `npm run build` rebuilds it.
//
// The first line sets what only takes effect before any script runs: a 1 MB young generation
// instead of V8's default 16 MB (a gateway makes small objects at a steady pace; ~10 MB less
// resident for a little more GC work), and two glibc malloc arenas instead of one per thread
// (~3 MB less), and `gc` exposed so that a thread quiet after a burst of work gives its heap back
// (core/settle.ts). systemd, `npm start` and the benchmarks run this file as an executable, so
// they get all three; `node bin/estate-gateway.js` runs without them.
import { existsSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Node 22+ keeps compiled code between starts (in NODE_COMPILE_CACHE, which the systemd unit
// points at the state directory); a Pi then starts noticeably faster. Node 20 has no such API.
module.enableCompileCache?.();

// Releases installed by the `upgrade` command (gateway/releases.ts, docs/upgrades.md): when the
// data dir names a current release, it runs instead of this installed copy. This copy is the
// stable part: it counts a release's start attempts while it is on trial and, after the third
// that did not come up, puts the release before it back itself (then tells it why), so a release
// that cannot even start is undone without its own help.
const MAX_START_ATTEMPTS = 3;
async function runRelease(args) {
  if (args[0] !== 'run' || process.env.ESTATE_GATEWAY_RELEASE) return false;
  const at = args.indexOf('--data-dir');
  if (at < 0 || !args[at + 1]) return false;
  const dir = join(args[at + 1], 'releases');
  let current = '';
  try {
    current = readlinkSync(join(dir, 'current'));
  } catch {
    return false;
  }
  let trial;
  try {
    trial = JSON.parse(readFileSync(join(dir, 'trial.json'), 'utf8'));
  } catch {
    trial = undefined;
  }
  if (trial && trial.version === current) {
    trial.attempts = (trial.attempts || 0) + 1;
    if (trial.attempts > MAX_START_ATTEMPTS) {
      if (trial.previous) {
        symlinkSync(trial.previous, join(dir, `current.tmp-${process.pid}`));
        renameSync(join(dir, `current.tmp-${process.pid}`), join(dir, 'current'));
      } else rmSync(join(dir, 'current'), { force: true });
      const reason = `the release did not start (${MAX_START_ATTEMPTS} attempts)`;
      writeFileSync(join(dir, 'rolled-back.json'), JSON.stringify({ version: trial.version, previous: trial.previous, reason, commandId: trial.commandId }));
      rmSync(join(dir, 'trial.json'), { force: true });
      process.stderr.write(`estate-gateway: release ${trial.version} ${reason}: back to ${trial.previous || 'the installed package'}\n`);
      current = trial.previous;
    } else writeFileSync(join(dir, 'trial.json'), JSON.stringify(trial));
  }
  const launcher = current ? join(dir, current, 'bin', 'estate-gateway.js') : '';
  if (!launcher || !existsSync(launcher)) return false;
  process.env.ESTATE_GATEWAY_RELEASE = current;
  await import(pathToFileURL(launcher).href); // the release's own launcher runs the command
  return true;
}

if (!(await runRelease(process.argv.slice(2)))) {
  const entry = new URL('../dist/bundle/cli.js', import.meta.url);
  if (!existsSync(entry)) {
    process.stderr.write('estate-gateway: dist/ is missing; run `npm run build` (npm ci does it) first\n');
    process.exit(1);
  }
  const { cli } = await import(entry.href);
  cli(process.argv.slice(2));
}
