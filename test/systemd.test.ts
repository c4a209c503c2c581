/**
 * The notify protocol against a real unix datagram socket (a Python stand-in for systemd's), with
 * the real gateway process: READY only after the outputs are safe and the journal is open,
 * WATCHDOG pings while alive, STOPPING on SIGTERM; abstract sockets through systemd-notify; and
 * the watchdog withholding pings while a loop is dead.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../core/clock.js';
import { createNotifier, encodeState } from '../gateway/notify.js';
import type { Notifier } from '../gateway/notify.js';
import { Watchdog } from '../gateway/watchdog.js';
import { silentLog } from './helpers.js';
import { until } from './peers/until.js';

const BIN = fileURLToPath(new URL('../bin/estate-gateway.js', import.meta.url));
const SOCKET_PEER = fileURLToPath(new URL('./peers/notify_socket.py', import.meta.url));
const HAVE_SYSTEMD_NOTIFY = spawnSync('systemd-notify', ['--version'], { stdio: 'ignore' }).status === 0;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

interface Datagram {
  at: number;
  message: string;
}

async function notifySocket(address: string): Promise<{ messages: Datagram[] }> {
  const peer = spawn('/usr/bin/python3', [SOCKET_PEER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(peer);
  const messages: Datagram[] = [];
  let buffer = '';
  await new Promise<void>((resolve) => {
    peer.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as { ready?: boolean } & Datagram;
        buffer = buffer.slice(nl + 1);
        if (line.ready) resolve();
        else messages.push({ at: line.at * 1000, message: line.message });
      }
    });
  });
  return { messages };
}

function site(dir: string): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `site: { id: notify }
gateway: { id: gw-1, dataDir: ./data }
console: { listen: "127.0.0.1:0" }
io: [{ id: sim, type: sim, traceFile: ./trace.jsonl }]
devices:
  - { id: door, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }
  - { id: gate, type: barrier, open: { io: sim, pin: 2 }, close: { io: sim, pin: 3 } }
`,
  );
  return file;
}

describe('sd_notify', () => {
  it('encodes one assignment per line and keeps values on their line', () => {
    expect(encodeState({ READY: 1, STATUS: 'two\nlines' })).toBe('READY=1\nSTATUS=two lines');
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const n = createNotifier(silentLog, {});
    expect([n.enabled, n.transport, n.watchdogMs]).toEqual([false, 'none', undefined]);
    await n.send({ READY: 1 });
  });

  it('reads WATCHDOG_USEC, and ignores it when WATCHDOG_PID names another process', () => {
    expect(createNotifier(silentLog, { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '20000000' }).watchdogMs).toBe(20_000);
    expect(createNotifier(silentLog, { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '20000000', WATCHDOG_PID: '1' }).watchdogMs).toBeUndefined();
  });

  it('the real process on a path socket: READY after outputs are safe and the journal is open, WATCHDOG pings, STOPPING on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-notify-'));
    const socketPath = join(dir, 'notify.sock');
    const sock = await notifySocket(socketPath);
    const child = spawn(process.execPath, [BIN, 'run', '--config', site(dir), '--log-level', 'warn'], {
      env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' },
      stdio: 'ignore',
    });
    children.push(child);
    await until('READY', () => sock.messages.some((m) => m.message.includes('READY=1')));
    const ready = sock.messages.find((m) => m.message.includes('READY=1'))!;
    expect(ready.message).toBe(`READY=1\nMAINPID=${child.pid}\nSTATUS=running: 2 devices`);
    // by then every output had its safe level written, and the journal existed
    const trace = readFileSync(join(dir, 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pin: number; value: number });
    expect(new Set(trace.map((t) => t.pin))).toEqual(new Set([1, 2, 3]));
    expect(existsSync(join(dir, 'data', 'journal.db'))).toBe(true);
    await until('three watchdog pings', () => sock.messages.filter((m) => m.message === 'WATCHDOG=1').length >= 3);
    expect(sock.messages[0]!.message).toContain('READY=1'); // nothing before READY
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    await until('STOPPING', () => sock.messages.some((m) => m.message.startsWith('STOPPING=1')));
    expect(sock.messages.at(-1)!.message).toBe('STOPPING=1\nSTATUS=stopping: SIGTERM');
  }, 30_000);

  it.runIf(HAVE_SYSTEMD_NOTIFY)('an abstract socket (@name) through the systemd-notify binary', async () => {
    const name = `@eg-test-${process.pid}-${Date.now()}`;
    const sock = await notifySocket(name);
    const notifier = createNotifier(silentLog, { ...process.env, NOTIFY_SOCKET: name });
    expect(notifier.transport).toBe('systemd-notify');
    await notifier.send({ READY: 1, STATUS: 'hello' });
    await until('READY', () => sock.messages.length > 0);
    expect(sock.messages[0]!.message).toMatch(/^READY=1\nSTATUS=hello/);
  });

  it('the systemd-notify transport also serves path sockets when asked', async () => {
    if (!HAVE_SYSTEMD_NOTIFY) return;
    const dir = mkdtempSync(join(tmpdir(), 'eg-notify-'));
    const path = join(dir, 'n.sock');
    const sock = await notifySocket(path);
    const notifier = createNotifier(silentLog, { ...process.env, NOTIFY_SOCKET: path }, { preferBinary: true });
    await notifier.send({ WATCHDOG: 1 });
    await until('WATCHDOG', () => sock.messages.length > 0);
    expect(sock.messages[0]!.message).toMatch(/^WATCHDOG=1/);
  });
});

describe('the watchdog', () => {
  afterEach(() => void vi.useRealTimers());

  it('pings every half period while all loops are alive, and stops while one is dead', async () => {
    vi.useFakeTimers({ now: 0 });
    const sent: string[] = [];
    const notifier: Notifier = { enabled: true, watchdogMs: 2000, transport: 'test', send: async (s) => void sent.push(encodeState(s)) };
    let pollerAlive = true;
    const dog = new Watchdog(
      notifier,
      () => [
        { name: 'device meter-1', alive: () => pollerAlive },
        { name: 'uplink', alive: () => true },
      ],
      systemClock,
      silentLog,
    );
    dog.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
    pollerAlive = false;
    expect(dog.check()).toEqual(['device meter-1']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(3);
    pollerAlive = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(4);
    dog.stop();
  });

  it('a meter whose poll hangs is dead after two intervals and two minutes', async () => {
    const { Meter } = await import('../devices/meter/meter.js');
    vi.useFakeTimers({ now: 0 });
    const hung = { request: () => new Promise<never>(() => undefined) };
    const meter = new Meter(
      { id: 'm', type: 'meter', model: 'sdm120', bus: 'b', unit: 1, intervalSec: 10, maxEnergyJumpKwh: 100 } as never,
      {
        clock: systemClock,
        log: silentLog,
        emit: () => 'id',
        stateChanged: () => undefined,
        output: () => {
          throw new Error();
        },
        input: () => {
          throw new Error();
        },
        fireAlarmActive: () => false,
        bus: hung as never,
        phase: 0,
      } as never,
    );
    meter.start();
    await vi.advanceTimersByTimeAsync(100_000);
    expect(meter.alive(Date.now())).toBe(true);
    await vi.advanceTimersByTimeAsync(41_000);
    expect(meter.alive(Date.now())).toBe(false);
    meter.stop();
  });
});

describe('the systemd unit', () => {
  const unit = readFileSync(fileURLToPath(new URL('../systemd/estate-gateway.service', import.meta.url)), 'utf8');
  const directives = new Map(
    unit
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  it('is a notify service with a watchdog that always restarts, as a dedicated user in gpio, dialout and input', () => {
    expect(
      Object.fromEntries(
        ['Type', 'NotifyAccess', 'WatchdogSec', 'Restart', 'User', 'SupplementaryGroups', 'StateDirectory', 'StartLimitIntervalSec'].map((k) => [
          k,
          directives.get(k),
        ]),
      ),
    ).toEqual({
      Type: 'notify',
      NotifyAccess: 'all',
      WatchdogSec: '30',
      Restart: 'always',
      User: 'estate-gateway',
      SupplementaryGroups: 'gpio dialout input',
      StateDirectory: 'estate-gateway',
      StartLimitIntervalSec: '0',
    });
    expect(directives.get('ExecStart')).toBe('/usr/bin/env estate-gateway run --config /etc/estate-gateway/site.yaml --data-dir /var/lib/estate-gateway');
  });

  it('is hardened as far as GPIO and serial allow', () => {
    for (const [k, v] of [
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6 AF_NETLINK'],
      ['CapabilityBoundingSet', ''],
      ['SystemCallFilter', '@system-service'],
    ] as Array<[string, string]>) {
      expect(directives.get(k), k).toBe(v);
    }
    // V8 needs writable and executable memory for its JIT
    expect(directives.get('MemoryDenyWriteExecute')).toBe('no');
  });
});
