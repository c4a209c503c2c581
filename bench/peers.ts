/** Real peers for the benchmarks: the pymodbus test peer and socat pty pairs. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packagePath } from '../core/paths.js';

export async function modbusPeer(spec: Record<string, unknown>): Promise<() => void> {
  const child = spawn('/usr/bin/python3', [packagePath('test', 'peers', 'modbus_peer.py'), JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => l.includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`modbus peer exited ${code}`)));
  });
  return () => child.kill('SIGKILL');
}

export async function ptyPair(): Promise<{ a: string; b: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  while (!(existsSync(a) && existsSync(b))) await new Promise((r) => setTimeout(r, 10));
  return { a, b, stop: () => child.kill('SIGKILL') };
}
