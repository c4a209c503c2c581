/**
 * A lane with a screen under the whole gateway's load (#20): camera pushes at 10 a second, each
 * answered with the screen's frames, while a 1,000,000-event backlog drains to a live mosquitto
 * and 32 meters on a Modbus TCP peer are read every second. Push to lane output is timed as in
 * lpr.ts (the sim board's trace FIFO); the figure to hold it against is the same lane idle
 * (lprLatency with SCREEN_LANE), measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { launchGateway } from './launch.js';
import { SCREEN_LANE, fillJournal, outputWatcher, pct, post, postText, waitFor } from './lpr.js';
import { REGISTERS, SDM630_REGS, floats } from './meters.js';
import { modbusPeer } from './peers.js';

export interface LaneUnderLoad {
  p50: number;
  p99: number;
  pushes: number;
  /** events the uplink delivered while the pushes were timed */
  drainedDuringPushes: number;
  backlogAtStart: number;
  /** meter readings published while the pushes were timed */
  readings: number;
  seconds: number;
}

/**
 * `loaded: false` times the same paced pushes on the same site with no backlog and no meters:
 * the idle figure the loaded one is held against (a push 100 ms after the last finds a process
 * that was asleep, which costs by itself).
 */
export async function laneUnderLoad(
  ports: { http: number; modbus: number },
  brokerUrl: string,
  backlog = 1_000_000,
  pushes = 600,
  perSecond = 10,
  loaded = true,
): Promise<LaneUnderLoad> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-lane-load-'));
  if (loaded) await fillJournal(join(dir, 'data'), backlog);
  const units = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String(i + 1), { ir: floats(SDM630_REGS) }]));
  const stopPeer = await modbusPeer({ mode: 'tcp', port: ports.modbus, units });
  const fifo = join(dir, 'outputs.fifo');
  execFileSync('mkfifo', [fifo]);
  const outputs = outputWatcher(fifo);
  const meters = Array.from(
    { length: loaded ? 32 : 0 },
    (_, i) =>
      `  - { id: m-${i + 1}, type: meter, model: custom, bus: plant, unit: ${i + 1}, intervalSec: 1, registers: [${REGISTERS.map(([name, address]) => `{ name: ${name}, address: ${address}, function: 4, type: float32 }`).join(', ')}] }`,
  );
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    `site: { id: bench }
gateway: { id: gw-load, dataDir: ./data }
upstream: { mqtt: { url: "${brokerUrl}" } }
console: { listen: "127.0.0.1:${ports.http}" }
io: [{ id: sim, type: sim, traceFile: ${fifo} }]
buses: [{ id: plant, type: tcp, host: 127.0.0.1, port: ${ports.modbus} }]
devices:
${SCREEN_LANE.devices}
${meters.join('\n')}
access: ${SCREEN_LANE.access}
`,
  );
  // Only the meters' telemetry is counted here (32 a second); the drain is read from the gateway's
  // own backlog figure, so that this process, which times the pushes, is not busy receiving it.
  const sub = await mqtt.connectAsync(brokerUrl, { clientId: 'bench-lane-load-sub', reconnectPeriod: 0 });
  let readings = 0;
  sub.on('message', () => readings++);
  await sub.subscribeAsync('estate/bench/gw-load/telemetry/#', { qos: 0 });
  const depth = async () =>
    ((await (await fetch(`http://127.0.0.1:${ports.http}/api/health`)).json()) as { journal?: { depth: number } }).journal?.depth ?? Number.NaN;
  const child = launchGateway(['run', '--config', config, '--log-level', 'warn'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitFor(`http://127.0.0.1:${ports.http}/api/health`);
    // the load is on: the backlog is draining and the meters are read
    const full = await depth();
    while (loaded && ((await depth()) > full - 1000 || readings < 64)) await new Promise((r) => setTimeout(r, 100));
    const backlogAtStart = await depth();
    let plate = 0;
    const push = () => SCREEN_LANE.push(`粤B${String(plate++ % 100_000).padStart(5, '0')}`);
    SCREEN_LANE.check?.(await postText(ports.http, '/lpr/cam', push()));
    await outputs.next();
    const times: number[] = [];
    const r0 = readings;
    const start = performance.now();
    for (let i = 0; i < pushes; i++) {
      const slot = start + (i * 1000) / perSecond;
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      await post(ports.http, agent, '/lpr/cam', push(), t0);
      times.push((await outputs.next()) - t0);
    }
    const seconds = (performance.now() - start) / 1000;
    return {
      p50: pct(times, 0.5),
      p99: pct(times, 0.99),
      pushes,
      // the depth figure lags by up to a second (the journal worker's round): near enough over a minute
      drainedDuringPushes: backlogAtStart - (await depth()),
      backlogAtStart,
      readings: readings - r0,
      seconds,
    };
  } finally {
    outputs.close();
    agent.destroy();
    child.kill('SIGTERM');
    await exited;
    await sub.endAsync(true);
    stopPeer();
  }
}
