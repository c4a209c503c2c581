/**
 * systemd's notify protocol (sd_notify): `READY=1` once the journal is open and every output is
 * safe, `WATCHDOG=1` while every loop that matters is alive, `STOPPING=1` on the way out, and a
 * `STATUS=` line for `systemctl status`. Nothing happens when NOTIFY_SOCKET is unset.
 *
 * Node has no unix datagram sockets. A path socket (`/run/systemd/notify`, the usual one) is
 * written with the small native module unix-dgram when it is installed; an abstract socket
 * (`@...`, containers and some hosts) or a machine without the module goes through the
 * `systemd-notify` binary, which is why the unit says `NotifyAccess=all`.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from '../core/log.js';

export interface Notifier {
  /** whether NOTIFY_SOCKET is set */
  readonly enabled: boolean;
  /** WATCHDOG_USEC in ms, when systemd expects watchdog pings */
  readonly watchdogMs: number | undefined;
  /** how the messages travel: 'unix-dgram', 'systemd-notify' or 'none' */
  readonly transport: string;
  send(state: Record<string, string | number>): Promise<void>;
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}

function loadUnixDgram(): { createSocket(type: 'unix_dgram'): UnixDgramSocket } | undefined {
  try {
    return createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  } catch {
    return undefined;
  }
}

export function encodeState(state: Record<string, string | number>): string {
  // One assignment per line; a newline inside a value would start a new (forged) assignment.
  return Object.entries(state)
    .map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`)
    .join('\n');
}

export function createNotifier(log: Logger, env: NodeJS.ProcessEnv = process.env, options: { binary?: string; preferBinary?: boolean } = {}): Notifier {
  const socket = env['NOTIFY_SOCKET'];
  const usec = Number(env['WATCHDOG_USEC']);
  const watchdogPid = env['WATCHDOG_PID'];
  // WATCHDOG_PID names the process systemd watches: pings are ours only if it is us (or unset).
  const watchdogMs = Number.isFinite(usec) && usec > 0 && (!watchdogPid || Number(watchdogPid) === process.pid) ? usec / 1000 : undefined;
  if (!socket) return { enabled: false, watchdogMs: undefined, transport: 'none', send: async () => undefined };

  const dgram = socket.startsWith('/') && !options.preferBinary ? loadUnixDgram() : undefined;
  if (dgram) {
    return {
      enabled: true,
      watchdogMs,
      transport: 'unix-dgram',
      send: (state) =>
        new Promise<void>((resolve) => {
          const s = dgram.createSocket('unix_dgram');
          s.on('error', (err) => log.warn({ err: err.message, socket }, 'sd_notify failed'));
          const buf = Buffer.from(encodeState(state));
          s.send(buf, 0, buf.length, socket, (err) => {
            if (err) log.warn({ err: err.message, socket }, 'sd_notify failed');
            s.close();
            resolve();
          });
        }),
    };
  }
  const binary = options.binary ?? 'systemd-notify';
  return {
    enabled: true,
    watchdogMs,
    transport: 'systemd-notify',
    send: (state) =>
      new Promise<void>((resolve) => {
        const args = Object.entries(state).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`);
        const child = spawn(binary, args, { env: { ...env, NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
        child.on('error', (e) => {
          log.warn({ err: e.message }, `sd_notify: cannot run ${binary}`);
          resolve();
        });
        child.on('exit', (code) => {
          if (code !== 0) log.warn({ code, err: err.trim() }, 'sd_notify: systemd-notify failed');
          resolve();
        });
      }),
  };
}
