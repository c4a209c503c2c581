/**
 * Permission denied is a part's fault too (#27): the real process, run as an unprivileged user
 * (as the systemd unit runs it), finds its serial reader's port and its lane screen's port there
 * but not its to open (a USB adapter before the udev rule or the dialout group). Each faults only
 * its own device, saying why; the door on the board that is there opens; and once the ports are
 * made the service's to open, both recover by themselves.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayProcess } from './helpers.js';
import { INSTALLER, bearer, installerSite, runGatewayProcess } from './helpers.js';
import { HAVE_SOCAT, freePort, ptyPair } from './peers/modbus.js';
import { until } from './peers/until.js';

const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));
/** Root can take another user's identity, and that user can run this checkout. */
const CAN_DROP =
  process.getuid?.() === 0 &&
  HAVE_SOCAT &&
  spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, BIN, '--version'], { stdio: 'ignore' }).status === 0;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.runIf(CAN_DROP)('permission denied (the real process, run as nobody)', () => {
  it("a port that is not the service's faults only its own device, and recovers once it is", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-denied-'));
    chmodSync(dir, 0o755);
    // the ports' links in folders anyone may look into: what denies is the device's own mode
    const open = (name: string) => {
      const d = join(dir, name);
      mkdirSync(d, { mode: 0o755 });
      return d;
    };
    const reader = await ptyPair(open('reader'));
    cleanups.push(() => reader.stop());
    const screen = await ptyPair(open('screen'));
    cleanups.push(() => screen.stop());
    // ptys made by root: mode 0620, group tty; nobody may not open them
    const devices = [realpathSync(reader.a), realpathSync(screen.a)];
    for (const d of devices) chmodSync(d, 0o600);
    const http = await freePort();
    const { site, dataDir } = await installerSite(
      dir,
      http,
      `io: [{ id: sim, type: sim }]
devices:
  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure, unlockMs: 1000 }
  - { id: qr, type: reader, door: lobby, port: ${reader.a}, baudRate: 9600 }
  - { id: gate, type: barrier, open: { io: sim, pin: 2 }, display: { port: ${screen.a} } }
`,
    );
    const own = (path: string) => {
      chownSync(path, NOBODY, NOBODY);
      for (const name of readdirSync(path, { withFileTypes: true })) {
        if (name.isDirectory()) own(join(path, name.name));
        else chownSync(join(path, name.name), NOBODY, NOBODY);
      }
    };
    own(dataDir);
    chmodSync(site, 0o644);
    let gw: GatewayProcess | undefined = await runGatewayProcess(site, http, { as: AS_NOBODY });
    cleanups.push(() => gw?.stop());
    const base = `http://127.0.0.1:${http}`;
    expect([gw.exited(), gw.stderr()]).toEqual([false, '']);
    const auth = await bearer(base, INSTALLER.username, INSTALLER.password);
    const faults = async () =>
      (
        (await (await fetch(`${base}/api/events?limit=100&type=device.fault`, { headers: auth })).json()) as {
          events: Array<{ device: string; data: { code: string; message?: string } }>;
        }
      ).events.map((e) => [e.device, e.data.code, e.data.message ?? '']);
    const devicesNow = async () => JSON.stringify(await (await fetch(`${base}/api/devices`, { headers: auth })).json());
    await until(
      async () => `${JSON.stringify(await faults())} ${await devicesNow()}`,
      async () => (await faults()).length === 2,
      8000,
    );
    const seen = await faults();
    expect(seen).toEqual(
      expect.arrayContaining([
        ['qr', 'READER_OFFLINE', expect.stringMatching(/Permission denied/i)],
        ['gate', 'DISPLAY_OFFLINE', expect.stringMatching(/Permission denied/i)],
      ]),
    );
    // everything else works: the door opens, the process is up
    const opened = await fetch(`${base}/api/devices/lobby/open`, { method: 'POST', headers: auth });
    expect(opened.status).toBe(200);
    expect(gw.exited()).toBe(false);

    // the ports become the service's (the udev rule, the dialout group): both come back
    for (const d of devices) chmodSync(d, 0o666);
    const recovered = async () =>
      (
        (await (await fetch(`${base}/api/events?limit=100&type=device.recovered`, { headers: auth })).json()) as {
          events: Array<{ device: string; data: { code: string } }>;
        }
      ).events.map((e) => `${e.device} ${e.data.code}`);
    await until(
      async () => `${(await recovered()).join(', ')} ${JSON.stringify(await faults())} ${await devicesNow()}`,
      async () => (await recovered()).length === 2,
      15_000,
    );
    expect((await recovered()).sort()).toEqual(['gate DISPLAY_OFFLINE', 'qr READER_OFFLINE']);
    expect(gw.stderr()).not.toMatch(/uncaught/i);
    await gw.stop();
    gw = undefined;
  }, 40_000);
});
