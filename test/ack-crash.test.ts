/**
 * An acknowledgement is a promise: a camera that got its 200 must never lose the car it told us
 * about. The real gateway process takes a steady load of camera pushes (each a new plate) and is
 * killed with SIGKILL at random moments, some runs with the broker unreachable; every push that
 * was answered 200 must reach the platform as its vehicle.entry, under one id, and the journal's
 * seq must stay gapless. Pushes cut off before their answer may or may not be there: only what
 * was acknowledged is counted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { HAVE_MOSQUITTO, startMosquitto, subscribe } from './peers/broker.js';
import { freePort } from './peers/modbus.js';
import { drained } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));
const PREFIX = 'estate/ack/gw-1';
const KILLS = 10;

function site(mqttPort: number, httpPort: number): string {
  return `site: { id: ack }
gateway: { id: gw-1, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${mqttPort}", topicPrefix: ${PREFIX} } }
console: { listen: "127.0.0.1:${httpPort}" }
io:
  - { id: sim, type: sim }
devices:
  - { id: gate, type: barrier, open: { io: sim, pin: 1 }, safetyLoop: { io: sim, pin: 2 } }
  - { id: cam, type: lpr-camera, vendor: generic, direction: in, lane: gate, allowFrom: [127.0.0.1] }
access: { visitors: record }
`;
}

function start(config: string) {
  const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited };
}

async function healthy(httpPort: number): Promise<boolean> {
  const up = Date.now() + 15_000;
  while (Date.now() < up) {
    if (
      await fetch(`http://127.0.0.1:${httpPort}/api/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe.runIf(HAVE_MOSQUITTO || process.env.CI === 'true')('camera pushes answered 200 survive SIGKILL (mosquitto)', () => {
  it(`after ${KILLS} kills under load, some with the broker unreachable, every acknowledged plate is delivered once by id and seq is gapless`, async () => {
    const mqttPort = await freePort();
    const deadPort = await freePort(); // nothing listens here: the broker is "down" for the runs that use it
    const httpPort = await freePort();
    const broker = await startMosquitto(mqttPort);
    const sub = await subscribe(mqttPort, `${PREFIX}/events/#`);
    const dir = mkdtempSync(join(tmpdir(), 'eg-ack-'));
    const up = join(dir, 'up.yaml');
    const down = join(dir, 'down.yaml');
    writeFileSync(up, site(mqttPort, httpPort));
    writeFileSync(down, site(deadPort, httpPort));
    const acked = new Set<string>();
    let next = 0;
    let cutOff = 0;
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const { child, exited } = start(kill % 3 === 1 ? down : up);
        expect(await healthy(httpPort)).toBe(true);
        let alive = true;
        // Eight cameras' worth of pushes at once, each a plate never seen before, until the kill.
        const pushers = Array.from({ length: 8 }, async () => {
          while (alive) {
            const plate = `粤A${String(next++).padStart(5, '0')}`;
            const ok = await fetch(`http://127.0.0.1:${httpPort}/lpr/cam`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ plate, confidence: 95 }),
            }).then(
              (r) => r.status === 200,
              () => false,
            );
            if (ok) acked.add(plate);
            else cutOff++;
          }
        });
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 600));
        child.kill('SIGKILL');
        await exited;
        alive = false;
        await Promise.all(pushers);
      }
      // A last run with the broker reachable forwards what the kills left behind, then stops.
      const { child, exited } = start(up);
      await drained(httpPort);
      child.kill('SIGTERM');
      await exited;
    } finally {
      await sub.stop();
      await broker.stop();
    }

    expect(acked.size).toBeGreaterThan(200); // enough to mean something, whatever the machine's load

    const db = new Database(join(dir, 'data', 'journal.db'), { readonly: true });
    const rows = db.prepare('SELECT seq, type, body FROM events ORDER BY seq').all() as Array<{ seq: number; type: string; body: string }>;
    db.close();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));

    // Upstream: every acknowledged plate arrived as a vehicle.entry, always under the same id.
    const idsByPlate = new Map<string, Set<string>>();
    for (const e of sub.json<{ id: string; type: string; data: { plate?: string } }>()) {
      if (e.type !== 'vehicle.entry' || !e.data.plate) continue;
      const ids = idsByPlate.get(e.data.plate) ?? new Set<string>();
      ids.add(e.id);
      idsByPlate.set(e.data.plate, ids);
    }
    const missing = [...acked].filter((p) => !idsByPlate.has(p));
    const twice = [...acked].filter((p) => (idsByPlate.get(p)?.size ?? 0) > 1);
    console.log(`ack crash test: ${acked.size} pushes acknowledged over ${KILLS} kills, ${cutOff} cut off unanswered, ${rows.length} events journaled`);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
  }, 180_000);
});
