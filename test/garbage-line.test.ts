/**
 * Garbage on a line is that part's fault (#27): the real process with a Firmata board and a
 * serial reader whose ports are live but carry random bytes (a wrong device, a broken cable,
 * the wrong baud rate). The process stays up with nothing uncaught, the board faults with a
 * reason a person can act on, the reader turns noise into bounded `unreadable` refusals, and a
 * door on the board that is there opens as usual.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INSTALLER, bearer, installerSite, runGatewayProcess } from './helpers.js';
import { HAVE_SOCAT, RUN_PEER_TESTS, freePort, ptyPair } from './peers/modbus.js';
import { until } from './peers/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.runIf(RUN_PEER_TESTS || HAVE_SOCAT)('garbage on a line (the real process)', () => {
  it('a Firmata board and a reader fed random bytes fault alone; the process lives and the door opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-garbage-'));
    const board = await ptyPair();
    cleanups.push(() => board.stop());
    const reader = await ptyPair();
    cleanups.push(() => reader.stop());
    const http = await freePort();
    const { site } = await installerSite(
      dir,
      http,
      `io:
  - { id: sim, type: sim }
  - { id: uno, type: firmata, port: ${board.a} }
devices:
  - { id: lobby, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure, unlockMs: 1000 }
  - { id: side, type: door, lock: { io: uno, pin: 7 }, lockType: fail-secure }
  - { id: qr, type: reader, door: lobby, port: ${reader.a}, baudRate: 9600 }
`,
    );
    // the far ends talk nonsense, all the time
    const ends = [openSync(board.b, 'w'), openSync(reader.b, 'w')];
    cleanups.push(() => ends.forEach((fd) => closeSync(fd)));
    const noise = setInterval(() => {
      for (const fd of ends) {
        try {
          writeSync(fd, randomBytes(64));
        } catch {
          // the pty went with the test
        }
      }
    }, 20);
    cleanups.push(() => clearInterval(noise));

    const gw = await runGatewayProcess(site, http);
    cleanups.push(() => gw.stop());
    const base = `http://127.0.0.1:${http}`;
    expect(gw.exited(), gw.stderr()).toBe(false);
    const auth = await bearer(base, INSTALLER.username, INSTALLER.password);
    const devices = async () =>
      new Map(
        ((await (await fetch(`${base}/api/devices`, { headers: auth })).json()) as { devices: Array<{ id: string; fault: string | null }> }).devices.map(
          (d) => [d.id, d],
        ),
      );
    // the board never answers like a Firmata: its door faults, with the reason
    await until(
      async () => JSON.stringify([...(await devices()).values()]),
      async () => (await devices()).get('side')?.fault === 'BOARD_OFFLINE',
      20_000,
    );
    const faults = (await (await fetch(`${base}/api/events?type=device.fault&limit=50`, { headers: auth })).json()) as {
      events: Array<{ device: string; data: { code: string; message?: string } }>;
    };
    expect(faults.events.find((e) => e.device === 'side')?.data.message).toMatch(/uno/);
    // the reader's noise is refused as unreadable, a bounded number of times a minute
    const denied = async () =>
      ((await (await fetch(`${base}/api/events?type=access.denied&limit=100`, { headers: auth })).json()) as { events: Array<{ data: { reason: string } }> })
        .events;
    await until('unreadable refusals', async () => (await denied()).length > 0);
    expect((await denied()).every((e) => e.data.reason === 'unreadable')).toBe(true);
    expect((await denied()).length).toBeLessThanOrEqual(10);
    // and the door on the board that is there opens as usual
    const opened = await fetch(`${base}/api/devices/lobby/open`, { method: 'POST', headers: auth });
    expect(opened.status).toBe(200);
    expect((await devices()).get('lobby')?.fault).toBeNull();
    expect(gw.exited()).toBe(false);
    expect(gw.stderr()).not.toMatch(/uncaught/i);
  }, 60_000);
});
