/**
 * A site loads only what it uses (devices/factory.ts, drivers/io/boards.ts, gateway/hardware.ts):
 * the real program runs a doors-only site and a meters-only site, and reports every module it
 * loaded (ES modules through a resolve hook, CommonJS ones from the require cache at exit). A
 * kind's class and drivers, a board type's driver and Modbus come in only where the site has them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from './peers/modbus.js';
import { until } from './peers/until.js';

const CLI = fileURLToPath(new URL('../dist/cli/cli.js', import.meta.url));

/** A preload that records each module the program loads into the file named by EG_LOADED. */
const PRELOAD = `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const file = process.env.EG_LOADED;
const hook = 'data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs';
  let file;
  export function initialize(data) { file = data.file; }
  export async function resolve(specifier, context, next) {
    const found = await next(specifier, context);
    appendFileSync(file, found.url + '\\\\n');
    return found;
  }\`);
register(hook, { data: { file } });
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(file, Object.keys(require('node:module')._cache).join('\\n') + '\\n'));
`;

/** Runs `estate-gateway run` (the compiled modules, not the bundle) until its API answers, stops it, and returns what it loaded. */
async function loadedBy(site: (port: number) => string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-lazy-'));
  const port = await freePort();
  writeFileSync(join(dir, 'site.yaml'), site(port).replace('DATA', join(dir, 'data')));
  writeFileSync(join(dir, 'preload.mjs'), PRELOAD);
  // what bin/estate-gateway.js does, with the compiled modules instead of the bundle
  writeFileSync(join(dir, 'run.mjs'), `const { cli } = await import(${JSON.stringify(pathToFileURL(CLI).href)});\ncli(process.argv.slice(2));\n`);
  const loaded = join(dir, 'loaded.txt');
  writeFileSync(loaded, '');
  const child = spawn(
    process.execPath,
    ['--import', join(dir, 'preload.mjs'), join(dir, 'run.mjs'), 'run', '--config', join(dir, 'site.yaml'), '--log-level', 'fatal'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, EG_LOADED: loaded },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await until(
      () => `the gateway to answer (it said: ${stderr})`,
      () =>
        fetch(`http://127.0.0.1:${port}/api/health`).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
    );
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
}

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
/** `node_modules/<package>` and `dist/<path>` of every loaded module, each once. */
const names = (urls: string[]) => [
  ...new Set(
    urls
      .map((u) => (u.startsWith('file://') ? fileURLToPath(u) : u))
      .filter((p) => p.startsWith(PROJECT))
      .map((p) => {
        const rel = p.slice(PROJECT.length);
        const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
        return pkg ? `package ${pkg[1]}` : rel;
      }),
  ),
];

describe('a site loads only what it uses', () => {
  it('a doors-only site loads no camera, reader, terminal or meter code, no Modbus, serial port, XML parser, Firmata, GPIO or broker', async () => {
    const loaded = names(
      await loadedBy(
        (port) => `
site: { id: s }
gateway: { id: g, dataDir: DATA }
console: { listen: "127.0.0.1:${port}" }
io: [{ id: sim, type: sim }]
devices:
  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-safe, contact: { io: sim, pin: 2 } }
  - { id: b1, type: door, lock: { io: sim, pin: 3 }, lockType: fail-secure }
`,
      ),
    );
    expect(loaded).toContain('dist/devices/door/door.js');
    expect(loaded).toContain('package fastify');
    expect(loaded).toContain('package better-sqlite3');
    const unwanted = loaded.filter((m) =>
      /devices\/(lpr-camera|reader|access-terminal|meter|barrier|bollard|alarm-input)\/(?!index\.js)|drivers\/(lpr|acs|readers|modbus)\/(?!types\.js)|drivers\/io\/(gpio|firmata|modbus-relay)|package (serialport|@serialport\/.*|modbus-serial|fast-xml-parser|johnny-five|firmata-io|onoff|epoll|aedes|mqtt)$/.test(
        m,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it('a meters-only Modbus TCP site loads the meter and Modbus, and no door, camera, reader or terminal code, no XML parser, Firmata or GPIO', async () => {
    const modbus = await freePort();
    const loaded = names(
      await loadedBy(
        (port) => `
site: { id: s }
gateway: { id: g, dataDir: DATA }
console: { listen: "127.0.0.1:${port}" }
buses: [{ id: plant, type: tcp, host: 127.0.0.1, port: ${modbus} }]
devices:
  - { id: m1, type: meter, model: sdm630, bus: plant, unit: 1 }
`,
      ),
    );
    expect(loaded).toContain('dist/devices/meter/meter.js');
    expect(loaded).toContain('package modbus-serial');
    const unwanted = loaded.filter((m) =>
      /devices\/(door|lpr-camera|reader|access-terminal|barrier|bollard|alarm-input)\/(?!index\.js)|drivers\/(lpr|acs|readers)\/(?!types\.js)|drivers\/io\/(sim|gpio|firmata|modbus-relay)|package (fast-xml-parser|johnny-five|firmata-io|onoff|epoll|aedes|mqtt)$/.test(
        m,
      ),
    );
    expect(unwanted).toEqual([]);
  });
});
