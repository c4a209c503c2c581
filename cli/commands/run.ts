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

/** systemd waits 90 s by default; the contract promises 5 s, so give up on a clean stop well before. */
export const STOP_DEADLINE_MS = 4000;

export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new GatewayError('CONFIG_UNREADABLE', `cannot create data dir ${dir}: ${errorMessage(err)}`, { dir });
  }
}

/** Starts the gateway and resolves with the exit code once a signal has stopped it. */
export async function runUntilSignalled(options: GatewayOptions, log: Logger): Promise<number> {
  const gateway = new Gateway(options);
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
  try {
    await gateway.start();
  } catch (err) {
    // Whatever was built goes back to safe before the failure is reported.
    await gateway.stop('start-failed').catch(() => undefined);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    throw err;
  }
  const code = await done;
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
  const { config } = loadConfigFile(opts.configFile);
  if (opts.dataDir) config.gateway.dataDir = resolve(opts.dataDir);
  prepareDataDir(config.gateway.dataDir);
  opts.log.info({ site: config.site.id, gateway: config.gateway.id, dataDir: config.gateway.dataDir }, 'starting');
  const notifier = createNotifier(opts.log.child({ component: 'systemd' }));
  if (notifier.enabled) opts.log.info({ transport: notifier.transport, watchdogMs: notifier.watchdogMs }, 'systemd notify socket found');
  return runUntilSignalled({ config, log: opts.log, version: opts.version, notifier }, opts.log);
}
