/**
 * Small human-readable state files in the data dir (the plate list, open stays, accounts):
 * written whole, atomically (temporary file, fsync, rename, fsync of the directory), so a power
 * cut leaves either the old file or the new one, never half of one. Saves are asynchronous and
 * coalesced: callers never wait on the disk, and a burst of changes costs one write.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
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

let tmpCounter = 0;

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
    const tmp = this.tmpPath();
    const fd = openSync(tmp, 'w', this.options.mode ?? 0o644);
    try {
      const bytes = Buffer.from(this.text(value));
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    syncDir(dirname(this.path));
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

  /** A temporary name of this writer's own, so two writers never share a half-written file. */
  private tmpPath(): string {
    return `${this.path}.${process.pid}-${(++tmpCounter).toString(36)}.tmp`;
  }

  private async write(value: T): Promise<void> {
    const tmp = this.tmpPath();
    const handle = await open(tmp, 'w', this.options.mode ?? 0o644);
    try {
      await handle.writeFile(this.text(value));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
    syncDir(dirname(this.path));
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems cannot fsync a directory; the rename is still atomic
  }
}
