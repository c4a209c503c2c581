/**
 * `estate-gateway demo` (`npm start`): the demo estate on a sim board whose script plays the
 * people using it (config/examples/demo.yaml), with every event printed readably.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { isMeterConfig } from '../../devices/meter/index.js';
import { createBoard } from '../../drivers/io/boards.js';
import { SimBoard } from '../../drivers/io/sim.js';
import { systemClock } from '../../core/clock.js';
import { UserStore } from '../../http/users.js';
import { formatEvent } from '../event-format.js';
import type { Logger } from '../../core/log.js';
import { packagePath } from '../../core/paths.js';
import { maskPlatesInText } from '../../core/privacy.js';
import { playDemoTraffic } from './demo-cameras.js';
import { prepareDemoDoors } from './demo-doors.js';
import { startDemoBroker, startDemoMeters } from './demo-plant.js';
import { runUntilSignalled } from './run.js';
import type { Output } from './output.js';

export interface DemoOptions {
  log: Logger;
  version: string;
  out: Output;
  listen?: string;
  /** stop by itself after this many seconds (for a quick look, and tests) */
  durationSec?: number;
  color: boolean;
}

export async function demoCommand(opts: DemoOptions): Promise<number> {
  const { config } = loadConfigFile(packagePath('config', 'examples', 'demo.yaml'));
  config.gateway.dataDir = mkdtempSync(join(tmpdir(), 'estate-gateway-demo-'));
  // The plant room and the platform, simulated on loopback ports of their own.
  const meters = await startDemoMeters(config.devices.filter(isMeterConfig));
  const broker = await startDemoBroker();
  for (const bus of config.buses) if (bus.type === 'tcp') bus.port = meters.port;
  if (config.upstream?.mqtt) config.upstream.mqtt.url = broker.url;
  const doors = prepareDemoDoors(config, config.gateway.dataDir);
  const listen = opts.listen ?? config.console.listen;
  // No default account exists anywhere; the demo makes one with a fresh random password per run.
  const password = randomBytes(9).toString('base64url');
  await new UserStore(config.gateway.dataDir).add('demo', 'admin', password);
  const boards = new Map(
    await Promise.all(config.io.map(async (b) => [b.id, await createBoard(b, { clock: systemClock, log: opts.log, buses: new Map() })] as const)),
  );
  for (const board of boards.values()) {
    if (board instanceof SimBoard) board.onNote((note) => opts.out.stdout(`${' '.repeat(14)}-- ${note}`));
  }
  opts.out.stdout(`estate-gateway ${opts.version} demo: ${config.site.name ?? config.site.id} on simulated I/O`);
  opts.out.stdout(`console on http://${listen}/  user demo, password ${password} (this run only); Ctrl-C to stop`);
  opts.out.stdout(`events forwarded to the embedded broker ${broker.url} (mosquitto_sub -h 127.0.0.1 -p ${new URL(broker.url).port} -t 'estate/#' -v)`);
  opts.out.stdout(`data in ${config.gateway.dataDir} (removed when the demo stops)`);
  opts.out.stdout('');
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  const until = opts.durationSec
    ? new Promise<string>(
        (resolve) => (stopTimer = setTimeout(() => resolve(`the demo's --duration of ${opts.durationSec} s is over`), opts.durationSec! * 1000)),
      )
    : undefined;

  const code = await runUntilSignalled(
    {
      config,
      log: opts.log,
      version: opts.version,
      listen,
      boards,
      onBuilt: (gateway) => {
        gateway.eventBus.on('event', 'demo-printer', (ev) => opts.out.stdout(formatEvent(ev, opts.color)));
        let stopTraffic: Array<() => void> = [];
        const note = (text: string) => opts.out.stdout(`${' '.repeat(14)}-- ${text}`);
        gateway.eventBus.on('event', 'demo-cameras', (ev) => {
          if (ev.type === 'gateway.started' && gateway.address) {
            stopTraffic = [
              playDemoTraffic(gateway.address.port, note, undefined, (text) =>
                opts.out.stdout(`${' '.repeat(14)}[北门屏 north gate screen] ${maskPlatesInText(text)}`),
              ),
              doors.play(gateway.address.port, note),
            ];
          } else if (ev.type === 'gateway.stopping') {
            for (const stop of stopTraffic) stop();
          }
        });
      },
    },
    opts.log,
    undefined,
    until,
  )
    .catch((err: unknown) => {
      if (isGatewayError(err, 'HTTP_LISTEN'))
        throw new GatewayError('USAGE', `${err.message}; another program (or another demo) has that port: pick a free one with --listen 127.0.0.1:9090`);
      throw err;
    })
    .finally(async () => {
      clearTimeout(stopTimer);
      await broker.close();
      await meters.close();
      doors.close();
      rmSync(config.gateway.dataDir, { recursive: true, force: true });
    });
  if (opts.durationSec) opts.out.stdout(`demo stopped: its --duration of ${opts.durationSec} s is over`);
  return code;
}
