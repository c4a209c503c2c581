/**
 * What a command prints all gets out, into a pipe whose reader is slow (#27): `events --json` of a
 * journal far larger than a pipe's 64 KB, read by a reader that starts late, prints every line
 * and exits 0; a reader that goes away (EPIPE) is not an error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventMaker } from '../core/events.js';
import { systemClock } from '../core/clock.js';
import { Journal } from '../journal/journal.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));
const EVENTS = 3000;

async function journalOf(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-output-'));
  const dataDir = join(dir, 'data');
  const journal = await Journal.open({ dataDir, maxBytes: 100_000_000, keepForwardedDays: 7 });
  const make = eventMaker('s', 'g', systemClock);
  for (let i = 0; i < n; i++) journal.append(make('door.unlocked', 'lobby', { by: 'console', user: `guard-${i}` }));
  await journal.committed();
  await journal.close();
  const site = join(dir, 'site.yaml');
  writeFileSync(site, `site: { id: s }\ngateway: { id: g, dataDir: ${dataDir} }\n`);
  return site;
}

function run(args: string[], readAfterMs: number, stopReadingAfter?: number): Promise<{ code: number | null; lines: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    child.stdout!.pause();
    // the reader starts late: by then the command has long written more than the pipe holds
    setTimeout(() => {
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (stopReadingAfter !== undefined && text.length > stopReadingAfter) child.stdout!.destroy();
      });
      child.stdout!.resume();
    }, readAfterMs);
    child.once('close', (code) => resolve({ code, lines: text.split('\n').filter(Boolean).length, stderr }));
  });
}

describe('command output into a pipe', () => {
  it('events --json prints every event to a slow reader, and exits 0', async () => {
    const site = await journalOf(EVENTS);
    const r = await run(['events', '--json', '--limit', '100000', '--config', site], 1000);
    expect(r.stderr).toBe('');
    expect([r.code, r.lines]).toEqual([0, EVENTS]);
  }, 30_000);

  it('a reader that goes away part way is no error', async () => {
    const site = await journalOf(EVENTS);
    const r = await run(['events', '--json', '--limit', '100000', '--config', site], 200, 10_000);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/uncaught|EPIPE/);
  }, 30_000);
});
