/**
 * A QR or card reader at a door (docs/credentials.md). It reads; access/credentials.ts decides;
 * the door opens itself (devices/door/door.ts keeps the unlock time, the relock and the fire alarm's
 * release). A refusal is an `access.denied` event and nothing moves. With a buzzer wired it beeps
 * once for yes and three times for no; with an LED, it is lit while the door is released for it.
 *
 * A reader whose device is missing or unplugged is a fault (`READER_OFFLINE`) and is opened again
 * every few seconds; one that has never sent anything shows as `waiting` (doctor says so).
 */
import type { Credentials } from '../../access/credentials.js';
import type { ReaderConfig, ReaderHealth, ReaderState } from './index.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { CredentialSource } from '../../core/events.js';
import type { OutputPin } from '../../drivers/io/pin.js';
import type { ReaderSource, ReaderSink } from '../../drivers/readers/source.js';
import { openReader } from '../../drivers/readers/source.js';
import { DeviceBase } from '../base.js';
import type { CommandContext, CommandResult, Device, DeviceAction, DeviceContext, DeviceSnapshot } from '../types.js';
import { refused } from '../types.js';

/** Unreadable reads recorded as access.denied per minute; more are counted, not recorded. */
export const UNREADABLE_PER_MINUTE = 10;
const BEEP_MS = 120;

export interface ReaderDeps {
  credentials: Credentials;
  /** the door or lane it opens, looked up when asked */
  target(): Device | undefined;
  /** the device source (tests may give their own) */
  source?(sink: ReaderSink, clock: Clock): ReaderSource;
}

export class Reader extends DeviceBase<ReaderState> implements Device {
  readonly type = 'reader' as const;
  readonly id: string;
  private readonly source: ReaderSource;
  private readonly buzzer: OutputPin | undefined;
  private readonly led: OutputPin | undefined;
  private lastReadAt: number | undefined;
  private offlineReason: string | undefined;
  /** whether its device is open (a serial port, an input device) */
  private deviceOpen = false;
  private readonly beeps: TimerHandle[] = [];
  private unreadable = { startedAt: Number.NEGATIVE_INFINITY, recorded: 0, suppressed: 0 };
  readonly counts = { granted: 0, denied: 0, unreadable: 0 };
  /** the door or lane it opens, by id, and how events name it */
  private readonly target: string;
  private readonly where: { door: string } | { lane: string };

  constructor(
    private readonly config: ReaderConfig,
    ctx: DeviceContext,
    private readonly deps: ReaderDeps,
  ) {
    super(ctx);
    this.id = config.id;
    this.target = config.door ?? config.lane!;
    this.where = config.door !== undefined ? { door: config.door } : { lane: config.lane! };
    this.buzzer = config.buzzer ? this.output(config.buzzer, 'buzzer') : undefined;
    this.led = config.led ? this.output(config.led, 'led') : undefined;
    const sink: ReaderSink = {
      text: (text) => this.onRead(text),
      bad: (reason, bytes) => {
        this.ctx.log.warn({ device: this.id, reason, bytes }, 'reader sent something that is not a read');
        this.onUnreadable();
      },
      status: (online, reason) => this.onStatus(online, reason),
    };
    const device = config.port !== undefined ? { port: config.port, baudRate: config.baudRate } : { keyboard: config.keyboard! };
    this.source = deps.source ? deps.source(sink, ctx.clock) : openReader(device, sink, ctx.clock);
  }

  applySafeState(): void {
    if (this.buzzer) this.drive(this.buzzer, false);
    if (this.led) this.drive(this.led, false);
  }

  start(): void {
    this.source.start();
    this.publishState();
  }

  stop(): void {
    this.source.stop();
    for (const t of this.beeps.splice(0)) this.ctx.clock.clearTimeout(t);
    this.applySafeState();
  }

  command(_action: DeviceAction, _ctx: CommandContext): CommandResult {
    return refused('not-supported', `${this.id} is a reader; open ${this.target} instead`);
  }

  fireAlarmChanged(): void {}

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, this.offlineReason !== undefined ? 'offline' : this.lastReadAt === undefined ? 'waiting' : 'online', {
      ...this.where,
      accepts: this.config.accepts,
      lastReadAt: this.lastReadAt === undefined ? null : new Date(this.lastReadAt).toISOString(),
      open: this.deviceOpen,
      ...(this.offlineReason !== undefined ? { reason: this.offlineReason } : {}),
      counts: { ...this.counts },
    });
  }

  /** Its entry in /api/health (`readers`): its device open or not (and why), when it last read. */
  health(): ReaderHealth {
    return {
      state: this.offlineReason !== undefined ? 'offline' : this.lastReadAt === undefined ? 'waiting' : 'online',
      open: this.deviceOpen,
      lastReadAt: this.lastReadAt === undefined ? null : new Date(this.lastReadAt).toISOString(),
      ...(this.offlineReason !== undefined ? { reason: this.offlineReason } : {}),
    };
  }

  /** One read: decided, then the door opens or the refusal is recorded. Never throws. */
  private onRead(text: string): void {
    const wasWaiting = this.lastReadAt === undefined;
    this.lastReadAt = this.ctx.clock.now();
    if (this.ctx.fireAlarmActive()) {
      // The door is released for the fire alarm: nothing to judge, and no pass gives up a use for it.
      this.ctx.log.info({ device: this.id }, 'read during the fire alarm: the door is already released');
      this.signal(true);
      if (wasWaiting) this.publishState();
      return;
    }
    const decision = this.deps.credentials.decide(text, this.target, this.config.accepts, this.config.cardFormat);
    if (!decision.ok && decision.reason === 'unreadable') {
      this.onUnreadable();
      if (wasWaiting) this.publishState();
      return;
    }
    const by: CredentialSource = decision.kind ?? 'card';
    const who = {
      reader: this.id,
      ...(decision.pass !== undefined ? { pass: decision.pass } : {}),
      ...(decision.card !== undefined ? { card: decision.card } : {}),
    };
    if (decision.ok) {
      const door = this.deps.target();
      const result: CommandResult = door
        ? door.command('open', { by, credential: { ...who, ...(decision.remainingUses !== undefined ? { remainingUses: decision.remainingUses } : {}) } })
        : refused('offline', `${this.target} is not running`);
      if (result.ok) {
        this.counts.granted++;
        this.signal(true, door);
      } else {
        this.counts.denied++;
        this.ctx.emit('access.denied', { by, reason: result.error === 'fire-alarm' ? 'fire-alarm' : 'door-fault', ...this.where, ...who });
        this.signal(false);
      }
    } else {
      this.counts.denied++;
      this.ctx.emit('access.denied', { by, reason: decision.reason, ...this.where, ...who });
      this.signal(false);
    }
    if (wasWaiting) this.publishState();
  }

  /**
   * Something that is no credential (noise, a barcode, a reader in a wrong mode): an
   * access.denied `unreadable`, at most UNREADABLE_PER_MINUTE a minute so a noisy line cannot fill
   * the journal; the rest are counted into the next one (`suppressed` in the log).
   */
  private onUnreadable(): void {
    this.counts.unreadable++;
    const now = this.ctx.clock.now();
    const w = this.unreadable;
    if (now - w.startedAt >= 60_000) {
      if (w.suppressed) this.ctx.log.warn({ device: this.id, suppressed: w.suppressed }, 'unreadable reads left unrecorded in the last minute');
      this.unreadable = { startedAt: now, recorded: 0, suppressed: 0 };
    }
    if (this.unreadable.recorded >= UNREADABLE_PER_MINUTE) {
      this.unreadable.suppressed++;
      return;
    }
    this.unreadable.recorded++;
    this.ctx.emit('access.denied', { by: this.config.accepts.includes('card') ? 'card' : 'qr', reason: 'unreadable', ...this.where, reader: this.id });
    this.signal(false);
  }

  private onStatus(online: boolean, reason?: string): void {
    this.deviceOpen = online;
    if (online) {
      if (this.offlineReason === undefined) return this.publishState();
      this.offlineReason = undefined;
      if (this.ownFault === 'READER_OFFLINE') {
        this.ownFault = null;
        this.ctx.emit('device.recovered', { code: 'READER_OFFLINE' });
      }
    } else {
      const first = this.offlineReason === undefined;
      this.offlineReason = reason ?? 'offline';
      if (first) {
        this.ctx.log.error({ device: this.id, reason }, 'reader cannot be read; trying again every few seconds');
        this.ownFault = 'READER_OFFLINE';
        this.ctx.emit('device.fault', { code: 'READER_OFFLINE', message: reason ?? 'offline' });
      }
    }
    this.publishState();
  }

  /** Tells the person at the reader: one beep and the LED for the door's unlock time, or three beeps. */
  private signal(ok: boolean, door?: Device): void {
    if (this.buzzer) {
      const buzzer = this.buzzer;
      for (let i = 0; i < (ok ? 1 : 3); i++) {
        const t = this.ctx.clock.setTimeout(
          () => {
            this.beeps.splice(this.beeps.indexOf(t), 1);
            this.pulse(buzzer, BEEP_MS);
          },
          i * BEEP_MS * 2,
        );
        this.beeps.push(t);
      }
    }
    if (ok && this.led) {
      const until = (door?.snapshot() as { unlockedUntil?: string } | undefined)?.unlockedUntil;
      const ms = until ? Math.max(500, Date.parse(until) - this.ctx.clock.now()) : 3000;
      this.pulse(this.led, ms);
    }
  }
}
