/**
 * The `upgrade` command (docs/upgrades.md): fetch a release, check it, install it beside the
 * running one, switch, and let systemd start it; then judge it once it runs, and undo it when it
 * is not healthy by its deadline. The files and the launcher's part are in releases.ts.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { EventData } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { HealthView } from './config-control.js';
import type { RollBack, Trial } from './releases.js';
import { cleanIncoming, currentRelease, fetchRelease, installRelease, readJson, rolledBackFile, trialFile, undoTrial } from './releases.js';
import { systemClock } from '../core/clock.js';
import type { Clock, TimerHandle } from '../core/clock.js';

export const DEFAULT_UPGRADE_DEADLINE_SEC = 120;

export type UpgradeAnswer = { ok: true; deferred: true } | { ok: false; error: 'not-supported' | 'invalid'; message: string };

export interface UpgradeControl {
  start(cmd: { id: string; url?: unknown; file?: unknown; sha256: unknown; signature: unknown; version: unknown; deadlineSec?: unknown }): UpgradeAnswer;
}

export interface UpgradeRunner {
  audit(data: EventData['audit.upgrade']): void;
  reply(reply: Record<string, unknown>): void;
  health(): HealthView;
  /** stops the gateway and ends the process; systemd starts `current` again */
  exit(reason: string): void;
}

export interface UpgradeOptions {
  dataDir: string;
  /** the fleet's Ed25519 public key (PEM file); without it upgrades are refused */
  publicKey?: string | undefined;
  /** a CA for the release server's certificate, besides the system's */
  ca?: string | undefined;
  /** this release's version */
  version: string;
  log: Logger;
  /** the gateway's clock, for the trial's deadline (default: the system's) */
  clock?: Clock;
}

export class UpgradeManager implements UpgradeControl {
  private runner: UpgradeRunner | undefined;
  private busy = false;
  private judgeTimer: TimerHandle | undefined;
  private readonly clock: Clock;

  constructor(private readonly o: UpgradeOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** The gateway runs: report a roll back that happened before it, and judge a trial of this release. */
  started(runner: UpgradeRunner): void {
    this.runner = runner;
    cleanIncoming(this.o.dataDir); // nothing is being fetched yet: what is there was cut short
    const rolled = readJson<RollBack>(rolledBackFile(this.o.dataDir));
    if (rolled) {
      rmSync(rolledBackFile(this.o.dataDir), { force: true });
      runner.audit({ id: rolled.commandId, ok: false, version: rolled.version, running: this.o.version, rolledBack: true, reason: rolled.reason });
      this.o.log.error({ version: rolled.version, reason: rolled.reason }, 'the upgrade was rolled back');
    }
    const trial = readJson<Trial>(trialFile(this.o.dataDir));
    if (trial && trial.version === this.o.version && currentRelease(this.o.dataDir) === trial.version && !this.judgeTimer) {
      this.judgeTimer = this.clock.setTimeout(() => this.judge(trial), trial.deadlineSec * 1000);
    }
  }

  stop(): void {
    this.clock.clearTimeout(this.judgeTimer);
    this.judgeTimer = undefined;
  }

  start(cmd: { id: string; url?: unknown; file?: unknown; sha256: unknown; signature: unknown; version: unknown; deadlineSec?: unknown }): UpgradeAnswer {
    if (!this.o.publicKey) return { ok: false, error: 'not-supported', message: 'upgrades need upgrade.publicKey (the fleet key) in the site config' };
    if (this.busy || readJson<Trial>(trialFile(this.o.dataDir)))
      return { ok: false, error: 'invalid', message: 'an upgrade is already under way or being tried' };
    const deadlineSec = cmd.deadlineSec === undefined ? DEFAULT_UPGRADE_DEADLINE_SEC : Number(cmd.deadlineSec);
    if (!Number.isInteger(deadlineSec) || deadlineSec < 1 || deadlineSec > 3600)
      return { ok: false, error: 'invalid', message: 'deadlineSec: expected an integer 1-3600' };
    if (cmd.version === this.o.version) return { ok: false, error: 'invalid', message: `version ${this.o.version} is the one running` };
    this.busy = true;
    void this.run(cmd, deadlineSec).finally(() => (this.busy = false));
    return { ok: true, deferred: true };
  }

  private async run(
    cmd: { id: string; url?: unknown; file?: unknown; sha256: unknown; signature: unknown; version: unknown },
    deadlineSec: number,
  ): Promise<void> {
    const runner = this.runner;
    const refuse = (error: string, message: string) => {
      runner?.reply({ id: cmd.id, ok: false, error, message });
      runner?.audit({
        id: cmd.id,
        ok: false,
        version: typeof cmd.version === 'string' ? cmd.version.slice(0, 32) : '?',
        running: this.o.version,
        error,
        reason: message,
      });
    };
    const fetched = await fetchRelease(cmd, { dataDir: this.o.dataDir, publicKey: this.o.publicKey!, ca: this.o.ca ? readFileSync(this.o.ca) : undefined });
    if (!fetched.ok) return refuse(fetched.error, fetched.message);
    try {
      await installRelease(this.o.dataDir, fetched.tarball, fetched.version);
    } catch (err) {
      return refuse('invalid', errorMessage(err));
    }
    const health = runner?.health();
    const trial: Trial = {
      version: fetched.version,
      previous: currentRelease(this.o.dataDir),
      attempts: 0,
      deadlineSec,
      commandId: cmd.id,
      baseline: Object.fromEntries(health?.faults() ?? []),
      uplinkWasConnected: health?.uplinkConnected() ?? null,
    };
    writeFileSync(trialFile(this.o.dataDir), JSON.stringify(trial));
    const { switchTo } = await import('./releases.js');
    switchTo(this.o.dataDir, fetched.version);
    runner?.audit({ id: cmd.id, ok: true, phase: 'installed', version: fetched.version, running: this.o.version });
    runner?.reply({ id: cmd.id, ok: true, version: fetched.version });
    this.o.log.warn({ version: fetched.version }, 'upgrade installed: restarting into it');
    // A moment for the reply and the audit event to leave, then systemd starts the new release.
    this.clock.setTimeout(() => runner?.exit(`upgrade to ${fetched.version}`), 500);
  }

  /** The trial's deadline: a device that was fine and is faulted now, or a lost uplink, undoes it. */
  private judge(trial: Trial): void {
    this.judgeTimer = undefined;
    const runner = this.runner;
    if (!runner) return;
    const now = runner.health();
    const reasons: string[] = [];
    const faults = now.faults();
    for (const [device, before] of Object.entries(trial.baseline)) {
      const after = faults.get(device);
      if (before === null && after) reasons.push(`${device} faulted (${after})`);
    }
    if (trial.uplinkWasConnected === true && now.uplinkConnected() === false) reasons.push('the uplink to the broker was lost');
    if (reasons.length) {
      undoTrial(this.o.dataDir, trial, `not healthy ${trial.deadlineSec} s after the upgrade: ${reasons.join('; ')}`);
      this.o.log.error({ version: trial.version, reasons }, 'the new release is not healthy: going back');
      runner.exit(`roll back ${trial.version}`);
      return;
    }
    rmSync(trialFile(this.o.dataDir), { force: true });
    runner.audit({ id: trial.commandId, ok: true, phase: 'confirmed', version: trial.version, running: this.o.version });
    this.o.log.info({ version: trial.version }, 'the new release is healthy: kept');
  }
}
