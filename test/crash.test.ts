/**
 * Power cuts, as near as a test gets: the real gateway process killed with SIGKILL at random
 * moments while it makes and forwards events, against a real mosquitto.
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
const PREFIX = 'estate/crash/gw-1';

/** A site whose sim board flaps four alarm inputs every 10 ms: ~400 events a second. */
function site(port: number, httpPort: number, busy: boolean): string {
  const steps: string[] = [];
  if (busy) {
    for (let k = 0; k < 100; k++) for (let pin = 1; pin <= 4; pin++) steps.push(`{ at: ${k * 10 + pin}, pin: ${pin}, value: ${k % 2 === 0 ? 1 : 0} }`);
  }
  const script = busy ? `\n    script: { repeatMs: 1000, steps: [${steps.join(', ')}] }` : '';
  return `site: { id: crash }
gateway: { id: gw-1, dataDir: ./data }
upstream: { mqtt: { url: "mqtt://127.0.0.1:${port}" } }
console: { listen: "127.0.0.1:${httpPort}" }
io:
  - id: sim
    type: sim${script}
devices:
${[1, 2, 3, 4].map((p) => `  - { id: zone-${p}, type: alarm-input, kind: perimeter, input: { io: sim, pin: ${p}, debounceMs: 0 }, clearAfterMs: 0 }`).join('\n')}
`;
}

function start(config: string) {
  const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited };
}

describe.runIf(HAVE_MOSQUITTO || process.env.CI === 'true')('SIGKILL at random moments (mosquitto)', () => {
  it('after 20 kills and a restart nothing journaled is missing upstream, no seq is reused, duplicates are rare', async () => {
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const broker = await startMosquitto(mqttPort);
    const sub = await subscribe(mqttPort, `${PREFIX}/events/#`);
    const dir = mkdtempSync(join(tmpdir(), 'eg-crash-'));
    const busy = join(dir, 'busy.yaml');
    const quiet = join(dir, 'quiet.yaml');
    writeFileSync(busy, site(mqttPort, httpPort, true));
    writeFileSync(quiet, site(mqttPort, httpPort, false));
    try {
      for (let kill = 0; kill < 20; kill++) {
        const { child, exited } = start(busy);
        // Kill at a random moment once it runs (start-up time varies with the machine's load),
        // and now and then during start-up itself.
        if (kill % 5 !== 4) {
          const up = Date.now() + 10_000;
          while (
            Date.now() < up &&
            !(await fetch(`http://127.0.0.1:${httpPort}/api/health`).then(
              (r) => r.ok,
              () => false,
            ))
          ) {
            await new Promise((r) => setTimeout(r, 25));
          }
        }
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 1000));
        child.kill('SIGKILL');
        await exited;
      }
      // A last, quiet run forwards whatever the kills left behind, then stops cleanly.
      const { child, exited } = start(quiet);
      await drained(httpPort);
      child.kill('SIGTERM');
      await exited;
    } finally {
      await sub.stop();
      await broker.stop();
    }

    const db = new Database(join(dir, 'data', 'journal.db'), { readonly: true });
    const rows = db.prepare('SELECT seq, id, time, type, body, forwarded FROM events ORDER BY seq').all() as Array<{
      seq: number;
      id: string;
      time: string;
      type: string;
      body: string;
      forwarded: number;
    }>;
    db.close();
    // The last run's own stopping event is journaled after its uplink has stopped: it goes out on the next start.
    const last = rows.pop()!;
    expect(last.type).toBe('gateway.stopping');
    // The journal itself: gapless, and in the order things happened.
    expect([...rows, last].map((r) => r.seq)).toEqual(Array.from({ length: rows.length + 1 }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.time >= rows[i - 1]!.time).toBe(true);
    expect(rows.length).toBeGreaterThan(500); // enough to mean something, whatever the machine's load

    const received = sub.json<{ seq: number; id: string; data: unknown }>();
    const bySeq = new Map<number, string>();
    for (const e of received) {
      const known = bySeq.get(e.seq);
      if (known !== undefined) expect(e.id).toBe(known); // a resend is the same event: no seq reused
      bySeq.set(e.seq, e.id);
    }
    const missing = rows
      .filter((r) => bySeq.get(r.seq) !== r.id)
      .map((r) => `${r.seq}: journal ${r.id} ${r.time}, received ${bySeq.get(r.seq) ?? 'nothing'}, forwarded ${r.forwarded}`);
    expect(missing).toEqual([]);
    expect(rows.every((r) => r.forwarded === 1)).toBe(true);
    const duplicates = received.length - bySeq.size;
    console.log(`crash test: ${rows.length} events journaled over 21 runs, ${received.length} received, ${duplicates} duplicates`);
    expect(duplicates / rows.length).toBeLessThan(0.05);
  }, 120_000);
});
