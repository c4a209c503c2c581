/** Real Modbus peers for tests: pymodbus in a child process, socat pty pairs for RTU. */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PEER = fileURLToPath(new URL('./modbus_peer.py', import.meta.url));
/** Debian's pymodbus is importable by /usr/bin/python3 only, not by the python3 first on PATH. */
export const PYTHON = '/usr/bin/python3';
export const HAVE_PYMODBUS = spawnSync(PYTHON, ['-c', 'import pymodbus'], { stdio: 'ignore' }).status === 0;
export const HAVE_SOCAT = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
/** In CI the peers are installed by .ci/run: a missing one must fail there, not skip. */
export const RUN_PEER_TESTS = (HAVE_PYMODBUS && HAVE_SOCAT) || process.env.CI === 'true';

export interface PeerSpec {
  mode: 'tcp' | 'rtu';
  port?: number;
  device?: string;
  baud?: number;
  /** delay each read by its frames' wire time at this line speed */
  wire?: { baud: number; bits: number };
  units: Record<string, Record<string, number | Record<string, number[]>>>;
}

export interface ModbusPeer {
  send(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  process: ChildProcess;
}

export async function startModbusPeer(spec: PeerSpec): Promise<ModbusPeer> {
  const child = spawn(PYTHON, [PEER, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(v: Record<string, unknown>) => void> = [];
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  lines.on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if (msg.ready) ready();
    else waiting.shift()?.(msg);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([
    isReady,
    exited.then(() => Promise.reject(new Error(`modbus peer exited: ${stderr}`))),
    new Promise((_, rej) => setTimeout(() => rej(new Error(`modbus peer not ready: ${stderr}`)), 10_000)),
  ]);
  return {
    process: child,
    send: (cmd) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      }),
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Two connected pseudo-terminals, as an RS485 adapter and a meter would see the line. */
/** Two linked ptys at DIR/a and DIR/b; given the dir of a stopped pair, the same paths come back (an adapter plugged in again). */
export async function ptyPair(dir = mkdtempSync(join(tmpdir(), 'eg-pty-'))): Promise<{ a: string; b: string; dir: string; stop: () => Promise<void> }> {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const end = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > end) throw new Error('socat did not create the pty pair');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    a,
    b,
    dir,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
