/**
 * `estate-gateway run`: the gateway in the foreground, as systemd starts it. SIGTERM/SIGINT stop
 * it: outputs go safe, everything is flushed, and the process exits 0 within 5 s.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { GatewayError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { Gateway } from '../../gateway/main.js';
import { createNotifier } from '../../gateway/notify.js';
import type { GatewayOptions } from '../../gateway/main.js';
import { ConfigManager } from '../../gateway/config-control.js';
import { UpgradeManager } from '../../gateway/upgrade-control.js';
import type { UpgradeRunner } from '../../gateway/upgrade-control.js';
import type { Runner } from '../../gateway/config-control.js';
import type { SiteConfig } from '../../config/schema.js';
import { systemClock } from '../../core/clock.js';

/** systemd waits 90 s by default; the contract promises 5 s, so give up on a clean stop well before. */
export const STOP_DEADLINE_MS = 4000;

export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new GatewayError('CONFIG_UNREADABLE', `cannot create data dir ${dir}: ${errorMessage(err)}`, { dir });
  }
}

/**
 * Starts the gateway and resolves with the exit code once a signal has stopped it. With a config
 * manager, a remote config (config.apply) restarts the gateway in this process on the new
 * config, and rolls it back to the last good one when it does not stay healthy.
 */
export async function runUntilSignalled(
  options: GatewayOptions,
  log: Logger,
  manager?: ConfigManager,
  until?: Promise<string>,
  upgrades?: UpgradeManager,
): Promise<number> {
  const build = (config: SiteConfig) =>
    new Gateway({ ...options, config, ...(manager ? { configControl: manager } : {}), ...(upgrades ? { upgradeControl: upgrades } : {}) });
  let gateway = build(options.config);
  let stopping: Promise<number> | undefined;
  let signalled: ((code: number) => void) | undefined;
  const done = new Promise<number>((r) => (signalled = r));

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal while stopping: outputs are already safe, exiting now');
      signalled?.(0);
      return;
    }
    log.info({ signal }, 'stopping');
    const deadline = new Promise<number>((r) => setTimeout(() => r(1), STOP_DEADLINE_MS).unref());
    stopping = Promise.race([
      gateway.stop(signal).then(
        () => 0,
        (err: unknown) => {
          log.error({ err }, 'stop failed');
          return 1;
        },
      ),
      deadline.then((code) => {
        log.error({ deadlineMs: STOP_DEADLINE_MS }, 'stop did not finish in time');
        return code;
      }),
    ]);
    void stopping.then((code) => signalled?.(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A stop of the caller's own (the demo's --duration), said as what it is, not as a signal.
  void until?.then((reason) => onSignal(reason as NodeJS.Signals));
  const runner: Runner = {
    restart: async (config, reason) => {
      // The gateway stops as on SIGTERM (every output to its safe state), then starts on the
      // new config, safe state first again. A signal meanwhile wins: nothing new starts.
      await gateway.stop(reason);
      if (stopping) return;
      gateway = build(config);
      try {
        await gateway.start();
      } catch (err) {
        await gateway.stop('start-failed').catch(() => undefined);
        throw err;
      }
      manager?.started(runner);
      upgrades?.started(upgradeRunner);
    },
    audit: (data) => void gateway.record('audit.config', data),
    reply: (reply) => gateway.uplink?.publishReply(reply),
    health: () => ({
      faults: () => new Map([...gateway.devices].map(([id, d]) => [id, d.snapshot().fault])),
      uplinkConnected: () => gateway.uplink?.connected,
    }),
  };
  const upgradeRunner: UpgradeRunner = {
    audit: (data) => void gateway.record('audit.upgrade', data),
    reply: runner.reply,
    health: runner.health,
    // Stops as on SIGTERM and ends the process; systemd (Restart=always) starts `current` again.
    exit: (reason) => onSignal(reason as NodeJS.Signals),
  };
  try {
    await gateway.start();
  } catch (err) {
    // Whatever was built goes back to safe before the failure is reported.
    await gateway.stop('start-failed').catch(() => undefined);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    throw err;
  }
  manager?.started(runner);
  upgrades?.started(upgradeRunner);
  const code = await done;
  manager?.stop();
  upgrades?.stop();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}

export interface RunOptions {
  configFile: string;
  dataDir?: string;
  log: Logger;
  version: string;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const loaded = loadConfigFile(opts.configFile);
  const dataDirOverride = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (dataDirOverride) loaded.config.gateway.dataDir = dataDirOverride;
  prepareDataDir(loaded.config.gateway.dataDir);
  // Remote configuration: a trial a previous process left open is closed first (the last good
  // config goes back), and a site file edited by hand is noticed.
  const manager = new ConfigManager(
    { file: loaded.file, dataDirOverride, clock: systemClock, log: opts.log.child({ component: 'config' }) },
    loaded.config.gateway.dataDir,
  );
  const config = manager.prepare(loaded.config);
  opts.log.info({ site: config.site.id, gateway: config.gateway.id, dataDir: config.gateway.dataDir }, 'starting');
  const notifier = createNotifier(opts.log.child({ component: 'systemd' }));
  if (notifier.enabled) opts.log.info({ transport: notifier.transport, watchdogMs: notifier.watchdogMs }, 'systemd notify socket found');
  const upgrades = new UpgradeManager({
    dataDir: config.gateway.dataDir,
    publicKey: config.upgrade?.publicKey,
    ca: config.upgrade?.ca,
    version: opts.version,
    log: opts.log.child({ component: 'upgrade' }),
  });
  return runUntilSignalled({ config, log: opts.log, version: opts.version, notifier }, opts.log, manager, undefined, upgrades);
}
