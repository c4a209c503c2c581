/**
 * Vitest's global setup: a log folder for the run (test/suite-logs.ts), and at the end a grep of
 * every log in it for the tests' secrets. A secret found fails the run, naming the file and line.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS } from './suite-logs.js';

let dir: string | undefined;

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), 'eg-suite-logs-'));
  process.env['EG_SUITE_LOG_DIR'] = dir;
}

/** Every line of every log in `folder` that holds one of `secrets`, as `file:line: "secret" in …`. */
export function secretsIn(folder: string, secrets: readonly string[]): { found: string[]; lines: number } {
  const found: string[] = [];
  let lines = 0;
  for (const name of readdirSync(folder)) {
    const text = readFileSync(join(folder, name), 'utf8');
    text.split('\n').forEach((line, i) => {
      lines++;
      for (const secret of secrets) if (line.includes(secret)) found.push(`${name}:${i + 1}: "${secret}" in ${line.slice(0, 300)}`);
    });
  }
  return { found, lines };
}

export function teardown(): void {
  if (!dir) return;
  const { found, lines } = secretsIn(dir, TEST_SECRETS);
  rmSync(dir, { recursive: true, force: true });
  if (found.length) {
    // vitest reports an error thrown here but still exits 0: the exit code is set as well
    process.exitCode = 1;
    throw new Error(`secrets in the suite's logs (${lines} lines read):\n${found.join('\n')}`);
  }
}
