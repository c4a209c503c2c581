/**
 * The one atomic file write (core/atomic-file.ts): a write that fails leaves no temporary file,
 * and the temporaries a crash left beside a state file are removed when the file is next loaded.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTemporaries, writeFileAtomic, writeFileAtomicSync } from '../core/atomic-file.js';
import { JsonFile } from '../core/json-file.js';

describe('atomic file writes', () => {
  it('replace a file whole, with the mode asked, and leave nothing beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-atomic-'));
    const file = join(dir, 'a.json');
    writeFileAtomicSync(file, 'one', 0o600);
    await writeFileAtomic(file, 'two', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('a write that fails removes its temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-atomic-'));
    const file = join(dir, 'passes.json');
    mkdirSync(file); // the rename over a directory fails, even as root
    expect(() => writeFileAtomicSync(file, 'x')).toThrow();
    await expect(writeFileAtomic(file, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['passes.json']);
  });

  it('temporaries a crash left are removed when the state file is loaded, and only those', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-atomic-'));
    const file = join(dir, 'passes.json');
    writeFileSync(file, '{"used": []}');
    for (const name of ['passes.json.4242-1.tmp', 'passes.json.77-a3.tmp', 'passes.json.corrupt-1700000000000', 'cards.json.4242-1.tmp', 'notes.tmp'])
      writeFileSync(join(dir, name), 'x');
    const loaded = new JsonFile<{ used: string[] }>(file).load((v) => v as { used: string[] });
    expect(loaded).toEqual({ ok: true, value: { used: [] } });
    expect(readdirSync(dir).sort()).toEqual(['cards.json.4242-1.tmp', 'notes.tmp', 'passes.json', 'passes.json.corrupt-1700000000000']);
    expect(removeTemporaries(join(dir, 'cards.json'))).toBe(1);
    expect(existsSync(join(dir, 'cards.json.4242-1.tmp'))).toBe(false);
  });
});
