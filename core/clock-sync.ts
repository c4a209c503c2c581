/**
 * Whether the system clock is synchronised (NTP), asked of the system the same way everywhere:
 * systemd's `timedatectl` (NTPSynchronized), else the flag file systemd-timesyncd keeps. A Pi
 * has no battery clock: after a power cut it starts at the last saved time until NTP answers.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type ClockSyncState = 'synced' | 'unsynced' | 'unknown';

export interface ClockSyncReading {
  state: ClockSyncState;
  /** what said so */
  source: string;
}

const TIMESYNCD_FLAG = '/run/systemd/timesync/synchronized';

/**
 * timedatectl runs without the service's systemd variables: a systemd tool that fails reports
 * its errno to NOTIFY_SOCKET, which would speak for the gateway (a stray `ERRNO=` to systemd).
 */
function toolEnv(): NodeJS.ProcessEnv {
  const { NOTIFY_SOCKET: _n, WATCHDOG_USEC: _u, WATCHDOG_PID: _p, ...rest } = process.env;
  return rest;
}

function fromTimedatectl(status: number | null, stdout: string): ClockSyncReading | undefined {
  const value = status === 0 ? stdout.trim() : '';
  if (value === 'yes') return { state: 'synced', source: 'timedatectl' };
  if (value === 'no') return { state: 'unsynced', source: 'timedatectl' };
  return undefined;
}

function fallback(): ClockSyncReading {
  if (existsSync(TIMESYNCD_FLAG)) return { state: 'synced', source: 'systemd-timesyncd' };
  return { state: 'unknown', source: 'none (no timedatectl, no systemd-timesyncd)' };
}

/** Blocking: for the CLI (doctor). */
export function readClockSync(): ClockSyncReading {
  const r = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 3000, env: toolEnv() });
  return fromTimedatectl(r.status, r.stdout ?? '') ?? fallback();
}

/** Non-blocking: for the running gateway. */
export function readClockSyncAsync(): Promise<ClockSyncReading> {
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 3000, env: toolEnv() }, (err, stdout) => {
      resolve(fromTimedatectl(err ? 1 : 0, stdout ?? '') ?? fallback());
    });
  });
}
