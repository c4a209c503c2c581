/**
 * The systemd watchdog: a ping every half WatchdogSec, sent only while every loop that matters
 * is alive: the event loop itself (a ping that comes late means it was blocked), the uplink,
 * the journal's worker, each meter poller and each polled board. A loop that stops making
 * progress stops the pings, and systemd restarts the process (ThingsBoard's gateway Modbus
 * poller silently stopped for half an hour, its issue #2132: here that is a restart).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Notifier } from './notify.js';

export interface Loop {
  name: string;
  alive(now: number): boolean;
}

/** Every loop the watchdog watches in a gateway, with how to tell it is alive. */
export function watchedLoops(parts: {
  uplink?: { alive(now: number): boolean } | undefined;
  journal?: { alive(): boolean } | undefined;
  devices: ReadonlyMap<string, { alive?(now: number): boolean }>;
  boards: ReadonlyMap<string, { alive?(now: number): boolean }>;
}): Loop[] {
  const loops: Loop[] = [];
  const { uplink, journal } = parts;
  if (uplink) loops.push({ name: 'uplink', alive: (now) => uplink.alive(now) });
  if (journal) loops.push({ name: 'journal', alive: () => journal.alive() });
  for (const [id, device] of parts.devices) {
    if (device.alive) loops.push({ name: `device ${id}`, alive: (now) => device.alive?.(now) ?? true });
  }
  for (const [id, board] of parts.boards) {
    if (board.alive) loops.push({ name: `board ${id}`, alive: (now) => board.alive?.(now) ?? true });
  }
  return loops;
}

export class Watchdog {
  private timer: TimerHandle | undefined;
  private lastTick = 0;
  private dead: string[] = [];

  constructor(
    private readonly notifier: Notifier,
    private readonly loops: () => Loop[],
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** ms between pings: half the watchdog period (systemd's own advice), at least 100 ms. */
  get periodMs(): number | undefined {
    return this.notifier.watchdogMs === undefined ? undefined : Math.max(100, this.notifier.watchdogMs / 2);
  }

  start(): void {
    const period = this.periodMs;
    if (period === undefined) return;
    this.lastTick = this.clock.now();
    const tick = () => {
      this.timer = this.clock.setTimeout(tick, period);
      void this.tick(period);
    };
    this.timer = this.clock.setTimeout(tick, period);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The loops that are not alive now (empty when all are). */
  check(now = this.clock.now()): string[] {
    const dead: string[] = [];
    for (const loop of this.loops()) {
      try {
        if (!loop.alive(now)) dead.push(loop.name);
      } catch {
        dead.push(loop.name);
      }
    }
    return dead;
  }

  private async tick(period: number): Promise<void> {
    const now = this.clock.now();
    const late = now - this.lastTick - period;
    this.lastTick = now;
    const dead = this.check(now);
    // A tick a whole period late means the event loop was blocked for that long.
    if (late > period) dead.push(`event-loop (blocked ${Math.round(late)} ms)`);
    if (dead.join() !== this.dead.join()) {
      if (dead.length) this.log.error({ dead }, 'watchdog: a loop stopped making progress; no more pings, systemd will restart the gateway');
      else if (this.dead.length) this.log.warn('watchdog: every loop is alive again');
      this.dead = dead;
    }
    if (!dead.length) await this.notifier.send({ WATCHDOG: 1 });
  }
}
