/**
 * Small human-readable state files in the data dir (the plate list, open stays, accounts):
 * written whole, atomically (temporary file, fsync, rename, fsync of the directory), so a power
 * cut leaves either the old file or the new one, never half of one. Saves are asynchronous and
 * coalesced: callers never wait on the disk, and a burst of changes costs one write.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { removeTemporaries, writeFileAtomic, writeFileAtomicSync } from './atomic-file.js';
import { errorMessage } from './errors.js';

export interface JsonFileOptions<T> {
  /** file mode of the written file (0o600 for accounts) */
  mode?: number;
  /** told when a save fails; the next save tries again */
  onError?: (err: unknown) => void;
  /** gather the changes of this many ms into one write (files that change with every car) */
  delayMs?: number;
  /** how to write the value (default: JSON indented by 2) */
  format?: (value: T) => string;
}

export type LoadResult<T> = { ok: true; value: T | undefined } | { ok: false; movedTo: string; reason: string };

export class JsonFile<T> {
  private pending: T | undefined;
  private writing: Promise<void> | undefined;
  private hasPending = false;
  /** ends the gathering delay early (flush) */
  private wake: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly options: JsonFileOptions<T> = {},
  ) {}

  /**
   * Reads the file: undefined when it does not exist. A file that is not JSON is moved aside
   * (kept for a human to look at) and reported, and the caller starts from its defaults.
   */
  load(validate: (value: unknown) => T): LoadResult<T> {
    removeTemporaries(this.path);
    if (!existsSync(this.path)) return { ok: true, value: undefined };
    try {
      return { ok: true, value: validate(JSON.parse(readFileSync(this.path, 'utf8'))) };
    } catch (err) {
      const movedTo = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, movedTo);
      return { ok: false, movedTo, reason: errorMessage(err) };
    }
  }

  /** Schedules a write of `value`; resolves once it (or a later value) is on disk. */
  save(value: T): Promise<void> {
    this.pending = value;
    this.hasPending = true;
    this.writing ??= this.drain();
    return this.writing;
  }

  /** Resolves once every scheduled write is done (and starts a delayed one now). */

  /** Resolves once every scheduled write is done. */
  async flush(): Promise<void> {
    while (this.writing) {
      this.wake?.();
      await this.writing;
    }
  }

  /**
   * Writes at once, synchronously: for CLI tools that exit right after. Not while an
   * asynchronous save may be in flight (await flush() first).
   */
  saveSync(value: T): void {
    this.hasPending = false;
    writeFileAtomicSync(this.path, this.text(value), this.options.mode ?? 0o644);
  }

  private async drain(): Promise<void> {
    try {
      while (this.hasPending) {
        // Gather what changes meanwhile into this write (flush() ends the wait early).
        if (this.options.delayMs) await this.pause(this.options.delayMs);
        const value = this.pending as T;
        this.hasPending = false;
        try {
          await this.write(value);
        } catch (err) {
          this.options.onError?.(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      timer.unref?.();
      this.wake = () => {
        this.wake = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private text(value: T): string {
    return `${this.options.format ? this.options.format(value) : JSON.stringify(value, null, 2)}\n`;
  }

  private async write(value: T): Promise<void> {
    await writeFileAtomic(this.path, this.text(value), this.options.mode ?? 0o644);
  }
}
