/**
 * Commands from the platform on `P/cmd` (docs/api.md, "Remote commands"), answered on `P/cmd/reply`.
 *
 * A command must be authentic, fresh and done once. In this order, so that nothing forged can
 * even use up an id: retained messages are refused (a retained "open" would reopen the gate at
 * every reconnect); the body must be a JSON object with an id; with `commandKey` set, `sig` must
 * be the HMAC-SHA256 of the command's canonical JSON (RFC 8785) without `sig`; `expiresAt` must
 * be in the future; the id must not have been seen (ids are remembered on disk for at least a
 * day, and until they expire, so a restart does not open a replay window). Every command that
 * passes these checks becomes an `audit.command` event, whatever its action then does.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AccessControl } from '../access/access.js';
import type { Device } from '../devices/types.js';
import type { Clock } from '../core/clock.js';
import { ACTIONS, COMMANDS, runCommand } from './commands.js';
import type { CommandAction, CommandError, CommandReply } from './commands.js';
import type { ConfigControl } from './config-control.js';
import type { UpgradeControl } from './upgrade-control.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import type { EventData } from '../core/events.js';
import { JsonFile } from '../core/json-file.js';
import { parseJson } from '../core/json.js';
import { COMMAND_MAX_BYTES } from '../uplink/topics.js';
import type { Logger } from '../core/log.js';

/** Ids are remembered at least this long, and until their command expires. */
export const REMEMBER_IDS_MS = 24 * 3600_000;
/** Refused commands recorded as audit.command per minute; more are counted, not recorded. */
export const REFUSALS_PER_MINUTE = 20;
const MAX_REMEMBERED = 100_000;

export type { CommandError, CommandReply } from './commands.js';
export { ACTIONS } from './commands.js';

export interface RemoteDeps {
  /** the HMAC key (the commandKey file's content, trimmed); undefined: commands are not signed */
  key: Buffer | undefined;
  dataDir: string | undefined;
  clock: Clock;
  log: Logger;
  devices: ReadonlyMap<string, Device>;
  access: AccessControl;
  audit(data: EventData['audit.command']): void;
  /** remote configuration (config.apply, config.get); absent: those commands are not supported */
  config?: ConfigControl | undefined;
  /** remote upgrades (upgrade); absent: not supported */
  upgrade?: UpgradeControl | undefined;
}

const seenFile = z.strictObject({ seen: z.array(z.tuple([z.string(), z.number()])) });

export class RemoteCommands {
  private readonly seen = new Map<string, number>();
  private readonly file: JsonFile<z.output<typeof seenFile>> | undefined;
  readonly counts = { accepted: 0, refused: 0 };

  constructor(private readonly deps: RemoteDeps) {
    this.file = deps.dataDir
      ? new JsonFile(join(deps.dataDir, 'commands-seen.json'), {
          mode: 0o600,
          format: (v) => `{"seen": [${v.seen.map((s) => `\n  ${JSON.stringify(s)}`).join(',')}${v.seen.length ? '\n' : ''}]}`,
          onError: (err) => deps.log.error({ err: errorMessage(err) }, 'seen command ids could not be saved'),
        })
      : undefined;
    const loaded = this.file?.load((v) => seenFile.parse(v));
    if (loaded && !loaded.ok) deps.log.error({ movedTo: loaded.movedTo, reason: loaded.reason }, 'commands-seen.json was unreadable and was moved aside');
    const now = deps.clock.now();
    if (loaded?.ok) for (const [id, until] of loaded.value?.seen ?? []) if (until > now) this.seen.set(id, until);
  }

  /** Handles one message from P/cmd and returns the reply to publish. Never throws. */
  handle(payload: Buffer, retained: boolean): CommandReply {
    let reply: CommandReply;
    this.audited = false;
    try {
      reply = this.check(payload, retained);
    } catch (err) {
      this.deps.log.error({ err: errorMessage(err) }, 'command failed');
      reply = { id: null, ok: false, error: 'invalid', message: 'the command could not be carried out' };
    }
    if (reply.ok) this.counts.accepted++;
    else this.counts.refused++;
    if (!reply.ok && !this.audited) this.auditRefusal(reply);
    return reply;
  }

  /** whether the command being handled has had its audit.command event */
  private audited = false;
  /** refusal audits in the current minute, and those left out of it */
  private refusalWindow = { startedAt: Number.NEGATIVE_INFINITY, recorded: 0, suppressed: 0 };

  /**
   * A command refused before it could act (bad signature, replayed, expired, retained, not
   * readable) is an audit.command event too, so a platform sees someone knocking: at most
   * REFUSALS_PER_MINUTE a minute, the rest counted into the next one (`suppressed`), so a
   * flood cannot fill the journal.
   */
  private auditRefusal(reply: Extract<CommandReply, { ok: false }>): void {
    const now = this.deps.clock.now();
    const w = this.refusalWindow;
    if (now - w.startedAt >= 60_000) {
      w.startedAt = now;
      w.recorded = 0;
    }
    if (w.recorded >= REFUSALS_PER_MINUTE) {
      w.suppressed++;
      return;
    }
    w.recorded++;
    this.deps.audit({
      id: reply.id ?? '',
      action: this.refusedAction ?? '',
      ok: false,
      error: reply.error,
      ...(w.suppressed ? { suppressed: w.suppressed } : {}),
    });
    w.suppressed = 0;
  }

  /** the action named by the command being refused, when it could be read */
  private refusedAction: string | undefined;

  async flush(): Promise<void> {
    await this.file?.flush();
  }

  private check(payload: Buffer, retained: boolean): CommandReply {
    this.refusedAction = undefined;
    if (payload.length > COMMAND_MAX_BYTES) {
      // Answered (and audited), so the platform knows: under its id when one can be found.
      const text = payload.toString('utf8');
      this.refusedAction = /"action"\s*:\s*"([^"\\]{1,64})"/.exec(text)?.[1];
      const id = /"id"\s*:\s*"([^"\\]{1,128})"/.exec(text)?.[1] ?? null;
      this.deps.log.warn({ id, action: this.refusedAction, bytes: payload.length }, 'command over the size limit refused');
      return fail(id, 'invalid', `too large: the command is ${payload.length} bytes; commands are limited to ${COMMAND_MAX_BYTES}`);
    }
    const parsed = parseJson(payload.toString('utf8'));
    if (!parsed.ok) return fail(null, 'invalid', `not JSON: ${parsed.reason}`);
    const doc = parsed.value;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail(null, 'invalid', 'expected a JSON object');
    const cmd = doc as Record<string, unknown>;
    this.refusedAction = typeof cmd['action'] === 'string' ? cmd['action'].slice(0, 64) : undefined;
    const id = typeof cmd['id'] === 'string' && cmd['id'].length > 0 && cmd['id'].length <= 128 ? cmd['id'] : null;
    if (retained) {
      this.deps.log.warn({ id }, 'retained command ignored (clear it on the broker)');
      return fail(id, 'retained', 'retained commands are ignored');
    }
    if (id === null) return fail(null, 'invalid', 'id: expected a string of 1-128 characters');

    if (this.deps.key) {
      const sig = cmd['sig'];
      if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig))
        return this.refuse(id, 'bad-signature', 'sig: expected the lowercase hex HMAC-SHA256 of the command');
      const { sig: _sig, ...unsigned } = cmd;
      const expected = createHmac('sha256', this.deps.key).update(canonicalJson(unsigned), 'utf8').digest();
      if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return this.refuse(id, 'bad-signature', 'the signature does not match the command');
    }

    const now = this.deps.clock.now();
    const expiresAtText = cmd['expiresAt'];
    let expiresAt: number | undefined;
    if (expiresAtText !== undefined) {
      expiresAt = typeof expiresAtText === 'string' ? Date.parse(expiresAtText) : Number.NaN;
      if (!Number.isFinite(expiresAt)) return fail(id, 'invalid', 'expiresAt: expected an ISO 8601 time such as 2026-11-22T02:00:30Z');
      if (now > expiresAt) return this.refuse(id, 'expired', `expired at ${new Date(expiresAt).toISOString()}`);
    }
    if (this.seen.has(id)) return this.refuse(id, 'replayed', `command ${id} was received before`);
    this.remember(id, Math.max(now + REMEMBER_IDS_MS, expiresAt ?? 0));

    const action = cmd['action'];
    const by = typeof cmd['by'] === 'string' ? cmd['by'].slice(0, 128) : undefined;
    const device = typeof cmd['device'] === 'string' ? cmd['device'] : undefined;
    const reply = this.run(id, action, cmd, by);
    this.audited = true;
    this.deps.audit({
      id,
      action: typeof action === 'string' ? action.slice(0, 64) : String(action),
      ...(by ? { by } : {}),
      ...(device ? { device: device.slice(0, 64) } : {}),
      ok: reply.ok,
      ...(reply.ok ? {} : { error: reply.error }),
    });
    return reply;
  }

  private run(id: string, action: unknown, cmd: Record<string, unknown>, by: string | undefined): CommandReply {
    if (typeof action !== 'string' || !Object.hasOwn(COMMANDS, action)) {
      return fail(id, 'unknown-action', `action: expected one of ${ACTIONS.join('|')}, got ${JSON.stringify(action ?? null)?.slice(0, 60)}`);
    }
    const { devices, access, config, upgrade } = this.deps;
    return runCommand(action as CommandAction, cmd, { id, by, devices, access, config, upgrade });
  }

  private refuse(id: string, error: CommandError, message: string): CommandReply {
    this.deps.log.warn({ id, error }, `command refused: ${message}`);
    return fail(id, error, message);
  }

  private remember(id: string, until: number): void {
    const now = this.deps.clock.now();
    // Ids are kept in arrival order, and most are kept for the same day: forget from the front.
    for (const [k, t] of this.seen) {
      if (t > now) break;
      this.seen.delete(k);
    }
    if (this.seen.size >= MAX_REMEMBERED) for (const [k, t] of this.seen) if (t <= now) this.seen.delete(k);
    if (this.seen.size >= MAX_REMEMBERED) {
      // Still full of live ids: a flood. Forget the oldest; its command expired long ago in practice.
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(id, until);
    void this.file?.save({ seen: [...this.seen] });
  }
}

function fail(id: string | null, error: CommandError, message: string): CommandReply {
  return { id, ok: false, error, message };
}

/**
 * Canonical JSON (RFC 8785, JCS) for the values a command holds: object keys sorted by UTF-16
 * code units at every level, no whitespace, strings and numbers as ECMAScript serialises them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Signs a command as the platform must (for tests, tools and the README's example). */
export function signCommand(command: Record<string, unknown>, key: Buffer | string): string {
  const { sig: _sig, ...unsigned } = command;
  return createHmac('sha256', key).update(canonicalJson(unsigned), 'utf8').digest('hex');
}

/** The HMAC key for signed commands: the file's content, surrounding whitespace trimmed. */
export function readCommandKey(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new GatewayError('CONFIG_UNREADABLE', `upstream.mqtt.commandKey: cannot read ${file}: ${errorMessage(err)}`, { file }, { cause: err });
  }
  if (text === '') throw new GatewayError('CONFIG_UNREADABLE', `upstream.mqtt.commandKey: ${file} is empty`, { file });
  return Buffer.from(text, 'utf8');
}
