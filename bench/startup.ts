/**
 * Start-up and footprint with the demo site: time from process start to READY=1 on a notify
 * socket (as systemd would see it), and RSS after a minute of the demo's traffic. A bare
 * `node -e` that exits at once is timed the same way, as the floor.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchGateway } from './launch.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096).decode()
    print(repr(time.time()) + " " + data.replace("\\n", " "), flush=True)
`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export function nodeFloorMs(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}

export async function startup(port: number, footprintSec: number): Promise<{ readyMs: number; rssMb: number; floorMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-start-'));
  const socketPath = join(dir, 'notify.sock');
  const config = join(dir, 'site.yaml');
  const demo = readFileSync(join(ROOT, 'config', 'examples', 'demo.yaml'), 'utf8')
    .replace(/dataDir: \S+ \}/, `dataDir: ${join(dir, 'data')} }`)
    .replace(/listen: "[^"]+"/, `listen: "127.0.0.1:${port}"`);
  writeFileSync(config, demo);
  const receiver = spawn('/usr/bin/python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let lines = '';
  await new Promise<void>((resolve) => receiver.stdout.on('data', (d: Buffer) => ((lines += d.toString()), lines.includes('listening') && resolve())));
  try {
    const started = Date.now();
    const child = launchGateway(['run', '--config', config, '--log-level', 'warn'], {
      env: { ...process.env, NOTIFY_SOCKET: socketPath },
      stdio: 'ignore',
    });
    while (!/READY=1/.test(lines)) await new Promise((r) => setTimeout(r, 5));
    const readyAt = Number(/(\d+\.\d+) READY=1/.exec(lines)?.[1]) * 1000;
    const readyMs = readyAt - started;
    await new Promise((r) => setTimeout(r, footprintSec * 1000));
    const rss = rssMb(child.pid!);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    return { readyMs, rssMb: rss, floorMs: nodeFloorMs() };
  } finally {
    receiver.kill('SIGKILL');
  }
}
