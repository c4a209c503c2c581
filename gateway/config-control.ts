/**
 * Remote configuration (`config.apply`, `config.get`): a whole site file from the platform,
 * validated as `validate` does, tried, and kept only if the gateway stays healthy.
 *
 * The site file named by `--config` stays the one source of truth: an applied config is written
 * over it (atomically), so an installer on site sees what runs. Beside the journal, in the data
 * dir, `config-state.json` holds the running version and hash and, during a trial, what is being
 * tried; `config-last-good.yaml` holds the text that ran before it.
 *
 * An apply, step by step (each step durable before the next):
 * 1. validate the text, check the version is higher and that site.id, gateway.id and dataDir
 *    stay (they name the journal and the topics); refuse with `validate`'s lines otherwise;
 * 2. save the last good text and the trial in the state file, then write the new site file;
 * 3. the runner stops the gateway (every output to its safe state) and starts it again on the
 *    new config; once it runs, the command is answered `{"id","ok":true,"version":N}`;
 * 4. after the deadline (`deadlineSec`, 60 s by default) the trial is judged: a device that was
 *    fine before and is faulted now, or an uplink that was connected and is not, rolls it back
 *    (the last good text back in place, a restart on it, `audit.config` with `rolledBack: true`
 *    and the reason); otherwise the new version is confirmed.
 * A process that starts while a trial is still open (a power cut, a crash mid-apply) has not
 * seen the new config proven: it puts the last good config back before anything starts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configFromText } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { every } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { EventData } from '../core/events.js';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';

export const STATE_FILE = 'config-state.json';
export const LAST_GOOD_FILE = 'config-last-good.yaml';
export const DEFAULT_DEADLINE_SEC = 60;
/** How often the site file is looked at for edits made by hand. */
export const WATCH_MS = 10_000;

const stateSchema = z.object({
  version: z.number().int().min(0),
  sha256: z.string(),
  trial: z
    .object({
      id: z.string(),
      version: z.number().int(),
      sha256: z.string(),
      previousVersion: z.number().int(),
      previousSha256: z.string(),
      deadlineSec: z.number(),
      startedAt: z.string(),
    })
    .optional(),
});
type State = z.output<typeof stateSchema>;

/** What the running gateway is, for the health judgement of a trial. */
export interface HealthView {
  /** device id → fault code (null when fine) */
  faults(): Map<string, string | null>;
  uplinkConnected(): boolean | undefined;
}

export type ApplyAnswer =
  | { ok: true; deferred: true }
  | { ok: false; error: 'invalid' | 'stale-version' | 'busy'; message: string; problems?: string[] /** busy: the version being tried */; onTrial?: number };

/** What remote commands see of remote configuration. */
export interface ConfigControl {
  /** the running version and the site file's hash (audited when a command id is given) */
  get(id?: string): { version: number; sha256: string };
  apply(cmd: { id: string; config: unknown; version: unknown; deadlineSec?: unknown }): ApplyAnswer;
}

export interface ConfigManagerOptions {
  /** the site file (`--config`) */
  file: string;
  /** `--data-dir`, when given, overrides gateway.dataDir of every config */
  dataDirOverride?: string | undefined;
  clock: Clock;
  log: Logger;
}

/** What the runner does for the manager: restart the gateway on a config, and record events. */
export interface Runner {
  restart(config: SiteConfig, reason: string): Promise<void>;
  audit(data: EventData['audit.config']): void;
  reply(reply: Record<string, unknown>): void;
  health(): HealthView;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class ConfigManager implements ConfigControl {
  private state: State;
  private readonly stateFile: JsonFile<State>;
  private runner: Runner | undefined;
  private judgeTimer: TimerHandle | undefined;
  private stopWatching: (() => void) | undefined;
  private fileSeen: { mtimeMs: number; size: number } | undefined;
  /** an apply whose restart is under way: no second one meanwhile */
  private busy = false;
  /** events to record once a gateway runs (made before one did) */
  private readonly queued: Array<EventData['audit.config']> = [];
  private pendingReply: Record<string, unknown> | undefined;
  private baseline: { faults: Map<string, string | null>; uplink: boolean | undefined } | undefined;

  constructor(
    private readonly o: ConfigManagerOptions,
    private readonly dataDir: string,
  ) {
    this.stateFile = new JsonFile(join(dataDir, STATE_FILE), { mode: 0o600 });
    const loaded = this.stateFile.load((v) => stateSchema.parse(v));
    if (!loaded.ok) o.log.error({ movedTo: loaded.movedTo, reason: loaded.reason }, `${STATE_FILE} was unreadable and was moved aside`);
    const text = this.readText();
    this.state = (loaded.ok ? loaded.value : undefined) ?? { version: 0, sha256: sha256(text) };
  }

  /**
   * Before the gateway is built: closes a trial a previous process left open (it was never
   * proven healthy: the last good config goes back) and notices a site file edited by hand.
   * Returns the config to start on.
   */
  prepare(current: SiteConfig): SiteConfig {
    const trial = this.state.trial;
    const lastGood = join(this.dataDir, LAST_GOOD_FILE);
    if (trial) {
      if (existsSync(lastGood)) {
        const text = readFileSync(lastGood, 'utf8');
        this.writeSiteFile(text);
        this.state = { version: trial.previousVersion, sha256: sha256(text) };
        this.saveState();
        this.queued.push({
          id: trial.id,
          action: 'config.apply',
          ok: false,
          version: trial.version,
          runningVersion: this.state.version,
          sha256: this.state.sha256,
          rolledBack: true,
          reason: 'the gateway restarted before the new config was proven healthy (power cut or crash during the trial)',
        });
        this.o.log.warn({ version: trial.version, restored: trial.previousVersion }, 'restarted during a config trial: the last good config is back');
        const restored = this.load(text);
        if (restored) return restored;
      } else {
        this.state = { version: trial.version, sha256: sha256(this.readText()) };
        this.saveState();
      }
    }
    const text = this.readText();
    const hash = sha256(text);
    if (hash !== this.state.sha256) {
      this.queued.push({ action: 'edited-on-disk', ok: true, version: this.state.version, sha256: hash, previousSha256: this.state.sha256 });
      this.o.log.warn({ file: this.o.file }, 'the site file was changed by hand since the last remote config');
      this.state = { version: this.state.version, sha256: hash };
      this.saveState();
    }
    return trial ? (this.load(text) ?? current) : current;
  }

  /** The gateway now runs (first start or after a restart): record what waited, judge a trial. */
  started(runner: Runner): void {
    this.runner = runner;
    for (const data of this.queued.splice(0)) runner.audit(data);
    const trialNow = this.state.trial;
    if (this.pendingReply && trialNow) {
      runner.reply(this.pendingReply);
      runner.audit({ id: trialNow.id, action: 'config.apply', ok: true, phase: 'applied', version: trialNow.version, sha256: trialNow.sha256 });
      this.pendingReply = undefined;
    }
    this.noteFile();
    this.stopWatching ??= every(this.o.clock, WATCH_MS, () => this.checkFile());
    const trial = this.state.trial;
    if (trial && !this.judgeTimer) {
      this.judgeTimer = this.o.clock.setTimeout(() => void this.judge(), trial.deadlineSec * 1000);
    }
  }

  stop(): void {
    this.o.clock.clearTimeout(this.judgeTimer);
    this.stopWatching?.();
    this.judgeTimer = this.stopWatching = undefined;
  }

  get(id?: string): { version: number; sha256: string } {
    if (id !== undefined) this.runner?.audit({ id, action: 'config.get', ok: true, version: this.state.version, sha256: this.state.sha256 });
    return { version: this.state.version, sha256: this.state.sha256 };
  }

  apply(cmd: { id: string; config: unknown; version: unknown; deadlineSec?: unknown }): ApplyAnswer {
    const refuse = (error: 'invalid' | 'stale-version' | 'busy', message: string, problems?: string[]): ApplyAnswer => {
      this.runner?.audit({
        id: cmd.id,
        action: 'config.apply',
        ok: false,
        version: this.state.version,
        sha256: this.state.sha256,
        error,
        ...(problems ? { problems: problems.slice(0, 50) } : {}),
      });
      return { ok: false, error, message, ...(problems ? { problems } : {}) };
    };
    if (typeof cmd.config !== 'string') return refuse('invalid', 'config: expected the whole site file as a YAML or JSON string');
    if (!Number.isSafeInteger(cmd.version) || (cmd.version as number) < 1) return refuse('invalid', 'version: expected an integer >= 1');
    const version = cmd.version as number;
    const deadlineSec = cmd.deadlineSec === undefined ? DEFAULT_DEADLINE_SEC : Number(cmd.deadlineSec);
    if (!Number.isInteger(deadlineSec) || deadlineSec < 1 || deadlineSec > 3600) return refuse('invalid', 'deadlineSec: expected an integer 1-3600');
    if (version <= this.state.version) return refuse('stale-version', `version ${version} is not newer than the running version ${this.state.version}`);
    const onTrial = this.state.trial?.version;
    if (onTrial !== undefined && version <= onTrial) return refuse('stale-version', `version ${version} is not newer than version ${onTrial}, on trial now`);
    // A file that is wrong is said to be wrong, trial or not; only a good newer one waits its turn.
    const result = configFromText(cmd.config, this.o.file);
    if (!result.ok)
      return refuse(
        'invalid',
        `the config has ${result.problems.length} problem(s)`,
        result.problems.map((p) => `${p.path}: ${p.message}`),
      );
    if (this.busy || onTrial !== undefined) {
      const answer = refuse('busy', `version ${onTrial ?? '?'} is being tried; send this one again once it is confirmed or rolled back`);
      return { ...answer, ...(onTrial !== undefined ? { onTrial } : {}) } as ApplyAnswer;
    }
    const next = this.withOverride(result.config);
    const running = this.load(this.readText());
    const fixed: string[] = [];
    if (running) {
      if (next.site.id !== running.site.id) fixed.push(`site.id: cannot be changed by config.apply (running "${running.site.id}")`);
      if (next.gateway.id !== running.gateway.id) fixed.push(`gateway.id: cannot be changed by config.apply (running "${running.gateway.id}")`);
      if (next.gateway.dataDir !== running.gateway.dataDir)
        fixed.push(`gateway.dataDir: cannot be changed by config.apply (running ${running.gateway.dataDir})`);
    }
    if (fixed.length) return refuse('invalid', 'the config changes what names this gateway', fixed);

    const text = cmd.config;
    const hash = sha256(text);
    this.writeAtomic(join(this.dataDir, LAST_GOOD_FILE), this.readText());
    this.state = {
      version: this.state.version,
      sha256: this.state.sha256,
      trial: {
        id: cmd.id,
        version,
        sha256: hash,
        previousVersion: this.state.version,
        previousSha256: this.state.sha256,
        deadlineSec,
        startedAt: new Date(this.o.clock.now()).toISOString(),
      },
    };
    this.saveState();
    this.writeSiteFile(text);
    const health = this.runner?.health();
    this.baseline = health ? { faults: health.faults(), uplink: health.uplinkConnected() } : undefined;
    this.runner?.audit({ id: cmd.id, action: 'config.apply', ok: true, phase: 'applying', version, previousVersion: this.state.version, sha256: hash });
    this.pendingReply = { id: cmd.id, ok: true, version };
    this.busy = true;
    // After this turn: the command's own events are recorded before the gateway stops.
    setImmediate(() => {
      void this.runner
        ?.restart(next, `config.apply version ${version}`)
        .catch((err: unknown) => this.rollBack(`the new config did not start: ${errorMessage(err)}`))
        .finally(() => (this.busy = false));
    });
    return { ok: true, deferred: true };
  }

  /** At the trial's deadline: keep the new config, or put the last good one back. */
  private async judge(): Promise<void> {
    this.judgeTimer = undefined;
    const trial = this.state.trial;
    if (!trial || !this.runner) return;
    const reasons: string[] = [];
    const now = this.runner.health();
    const faults = now.faults();
    for (const [device, before] of this.baseline?.faults ?? new Map<string, string | null>()) {
      const after = faults.get(device);
      if (before === null && after) reasons.push(`${device} faulted (${after})`);
    }
    if (this.baseline?.uplink === true && now.uplinkConnected() === false) reasons.push('the uplink to the broker was lost');
    if (reasons.length) {
      await this.rollBack(`not healthy ${trial.deadlineSec} s after the apply: ${reasons.join('; ')}`);
      return;
    }
    this.state = { version: trial.version, sha256: trial.sha256 };
    this.saveState();
    this.baseline = undefined;
    this.runner.audit({ id: trial.id, action: 'config.apply', ok: true, phase: 'confirmed', version: trial.version, sha256: trial.sha256 });
    this.o.log.info({ version: trial.version }, 'new config confirmed healthy');
  }

  private async rollBack(reason: string): Promise<void> {
    const trial = this.state.trial;
    if (!trial) return;
    const text = readFileSync(join(this.dataDir, LAST_GOOD_FILE), 'utf8');
    this.writeSiteFile(text);
    this.state = { version: trial.previousVersion, sha256: sha256(text) };
    this.saveState();
    this.baseline = undefined;
    this.pendingReply = undefined;
    this.queued.push({
      id: trial.id,
      action: 'config.apply',
      ok: false,
      version: trial.version,
      runningVersion: this.state.version,
      sha256: this.state.sha256,
      rolledBack: true,
      reason,
    });
    this.o.log.error({ version: trial.version, reason }, 'config rolled back');
    const config = this.load(text);
    if (config && this.runner) {
      try {
        await this.runner.restart(config, `roll back config version ${trial.version}`);
      } catch (err) {
        this.o.log.error({ err: errorMessage(err) }, 'the last good config did not start either');
      }
    }
  }

  /** Edits by hand while running are noticed and reported (not applied: a restart does that). */
  private checkFile(): void {
    let st: { mtimeMs: number; size: number };
    try {
      st = statSync(this.o.file);
    } catch {
      return;
    }
    if (this.fileSeen && st.mtimeMs === this.fileSeen.mtimeMs && st.size === this.fileSeen.size) return;
    this.fileSeen = { mtimeMs: st.mtimeMs, size: st.size };
    if (this.state.trial || this.busy) return;
    const hash = sha256(this.readText());
    if (hash === this.state.sha256) return;
    this.runner?.audit({ action: 'edited-on-disk', ok: true, version: this.state.version, sha256: hash, previousSha256: this.state.sha256 });
    this.o.log.warn({ file: this.o.file }, 'the site file was changed by hand; it takes effect at the next restart');
    this.state = { version: this.state.version, sha256: hash };
    this.saveState();
  }

  private noteFile(): void {
    try {
      const st = statSync(this.o.file);
      this.fileSeen = { mtimeMs: st.mtimeMs, size: st.size };
    } catch {
      this.fileSeen = undefined;
    }
  }

  private load(text: string): SiteConfig | undefined {
    const result = configFromText(text, this.o.file);
    return result.ok ? this.withOverride(result.config) : undefined;
  }

  private withOverride(config: SiteConfig): SiteConfig {
    if (this.o.dataDirOverride) config.gateway.dataDir = this.o.dataDirOverride;
    return config;
  }

  private readText(): string {
    return readFileSync(this.o.file, 'utf8');
  }

  private saveState(): void {
    this.stateFile.saveSync(this.state);
  }

  private writeSiteFile(text: string): void {
    this.writeAtomic(this.o.file, text);
    this.noteFile();
  }

  /** Keeps the file's mode (it may hold secrets' paths the installer restricted). */
  private writeAtomic(path: string, text: string): void {
    let mode = 0o640;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      // a new file
    }
    writeFileAtomicSync(path, text, mode);
  }
}
