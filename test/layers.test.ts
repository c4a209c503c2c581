/**
 * The folders are layers, and an import only ever goes down (docs/architecture.md): the kernel
 * (core/) knows nothing of the project, drivers know nothing of devices, the composition root
 * (gateway/) is imported only by the CLI. Read from the source itself, so a new upward import
 * fails here, with the file and line that made it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bottom first. A folder may import its own layer and any layer before it. */
const LAYERS = ['core', 'schema', 'drivers', 'access', 'devices', 'config', 'journal', 'uplink', 'http', 'gateway', 'cli'] as const;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function upwardImports(): string[] {
  const found: string[] = [];
  for (const [rank, layer] of LAYERS.entries()) {
    for (const file of sources(join(ROOT, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2]!;
        const target = relative(ROOT, resolve(file, '..', spec)).split('/')[0]!;
        const targetRank = LAYERS.indexOf(target as (typeof LAYERS)[number]);
        if (targetRank > rank) {
          const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
          found.push(`${relative(ROOT, file)}:${line} imports ${spec} (${target} is above ${layer})`);
        }
      }
    }
  }
  return found;
}

describe('layers', () => {
  it('no module imports from a layer above its own', () => {
    expect(upwardImports()).toEqual([]);
  });

  it('the kernel imports nothing of the project but itself', () => {
    const outside = sources(join(ROOT, 'core')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(IMPORT)]
        .map((m) => m[1] ?? m[2]!)
        .filter((spec) => spec.startsWith('..'))
        .map((spec) => `${relative(ROOT, file)}: ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  it('every folder of source is a known layer', () => {
    const folders = readdirSync(ROOT).filter((name) => statSync(join(ROOT, name)).isDirectory() && sources(join(ROOT, name)).length > 0);
    const notLayers = folders.filter((f) => !(LAYERS as readonly string[]).includes(f) && !['test', 'bench', 'types', 'node_modules', 'dist'].includes(f));
    expect(notLayers).toEqual([]);
  });
});
