/**
 * A face or card terminal that decides by itself (`type: access-terminal`, docs/credentials.md):
 * it releases its own door and pushes what it did. The gateway records each decision as
 * `door.unlocked` (`by: terminal`) or `access.denied` (`reason: refused-by-terminal`) with the
 * person and card numbers (masked in logs) and forwards it; pictures in the push are dropped
 * unread. Pushes come over HTTP like the cameras' (`POST /acs/{id}`, allowFrom, size limits).
 */
import { canonicalCard } from '../../access/card-format.js';
import type { AccessTerminalConfig, AccessTerminalState } from './index.js';
import type { AcsProtocol, AcsRecord } from '../../drivers/acs/types.js';
import type { CameraReply } from '../../drivers/lpr/types.js';
import { DeviceBase } from '../base.js';
import { AllowList, pushHealth, pushState } from '../push.js';
import type { PushHealth, PushResult, PushSource } from '../push.js';
import type { CommandResult, Device, DeviceContext, DeviceSnapshot } from '../types.js';
import { refused } from '../types.js';

export class AccessTerminal extends DeviceBase<AccessTerminalState> implements Device, PushSource {
  readonly type = 'access-terminal' as const;
  readonly id: string;
  readonly counts: Record<PushResult, number> = { read: 0, heartbeat: 0, ignored: 0, malformed: 0, refused: 0, 'too-large': 0, suppressed: 0 };
  private lastSeenAt: number | undefined;
  private lastAddress: string | undefined;
  private readonly allowedFrom: AllowList;

  constructor(
    readonly config: AccessTerminalConfig,
    ctx: DeviceContext,
    private readonly protocol: AcsProtocol,
  ) {
    super(ctx);
    this.id = config.id;
    this.allowedFrom = new AllowList(config.allowFrom);
  }

  applySafeState(): void {}

  start(): void {
    this.publishState();
  }

  stop(): void {}

  command(): CommandResult {
    return refused('not-supported', `${this.id} is a terminal that releases its own door; it takes no commands from here`);
  }

  fireAlarmChanged(): void {}

  accepts(address: string): boolean {
    return this.allowedFrom.accepts(address);
  }

  count(result: PushResult): void {
    this.counts[result]++;
  }

  /** Reads a push, records each access decision in it, and returns the terminal's expected answer. Throws PushError when unreadable. */
  handlePush(body: Buffer, contentType: string | undefined, _path: string, address: string, contentEncoding?: string): CameraReply {
    const push = this.protocol.parse(body, contentType, contentEncoding);
    const now = this.ctx.clock.now();
    const wasQuiet = pushState(this.lastSeenAt, now) !== 'online';
    this.lastSeenAt = now;
    this.lastAddress = address;
    if (push.kind === 'records') {
      this.count('read');
      for (const r of push.records) this.record(r);
    } else {
      this.count(push.kind);
    }
    if (wasQuiet) this.publishState();
    return this.protocol.reply();
  }

  /** A reported card in the list's form (cardFormat), with what the terminal said when that differs. */
  private cardOf(reported: string): { card: string; cardAsRead?: string } {
    const card = canonicalCard(reported, this.config.cardFormat)?.card ?? reported;
    return card === reported ? { card } : { card, cardAsRead: reported };
  }

  private record(r: AcsRecord): void {
    const who = {
      method: r.method,
      terminalCode: r.terminalCode,
      ...(r.person !== undefined ? { person: r.person } : {}),
      ...(r.card !== undefined ? this.cardOf(r.card) : {}),
      ...(r.terminalTime !== undefined ? { terminalTime: r.terminalTime } : {}),
    };
    if (r.outcome === 'granted') this.ctx.emit('door.unlocked', { by: 'terminal', ...who });
    else this.ctx.emit('access.denied', { by: 'terminal', reason: 'refused-by-terminal', ...who });
  }

  /** Its entry in /api/health: when it was last heard from (a push or a heartbeat). */
  health(): PushHealth {
    return pushHealth(this.lastSeenAt, this.ctx.clock.now());
  }

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, pushState(this.lastSeenAt, this.ctx.clock.now()), {
      vendor: this.config.vendor,
      lastSeenAt: this.lastSeenAt === undefined ? null : new Date(this.lastSeenAt).toISOString(),
      lastAddress: this.lastAddress ?? null,
      pushes: { ...this.counts },
    });
  }
}
