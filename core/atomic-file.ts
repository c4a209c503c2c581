/**
 * The one way a file is replaced: written to a temporary file of its own beside it, fsynced,
 * renamed over the old one, and the directory fsynced, so a power cut leaves the old file or the
 * new one, never a mix (docs/events.md). A write that fails removes its temporary file; one cut
 * short by a crash leaves it, and `removeTemporaries` (called when the file is next loaded)
 * removes it then.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A temporary name of this writer's own, so two writers never share a half-written file. */
function temporaryFor(path: string): string {
  return `${path}.${process.pid}-${(++counter).toString(36)}.tmp`;
}

/** Whether `name` is a temporary file of `file` (`file.PID-N.tmp`). */
const isTemporaryOf = (file: string, name: string) => name.startsWith(`${file}.`) && /\.\d+-[0-9a-z]+\.tmp$/.test(name.slice(file.length));

export function writeFileAtomicSync(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = temporaryFor(path);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dirname(path));
}

export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = temporaryFor(path);
  try {
    const handle = await open(tmp, 'w', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  syncDir(dirname(path));
}

/** Removes the temporary files a crash left beside `path`; returns how many. */
export function removeTemporaries(path: string): number {
  const file = basename(path);
  let removed = 0;
  try {
    for (const name of readdirSync(dirname(path))) {
      if (!isTemporaryOf(file, name)) continue;
      rmSync(join(dirname(path), name), { force: true });
      removed++;
    }
  } catch {
    // no directory yet: nothing to clean
  }
  return removed;
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
