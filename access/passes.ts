/**
 * QR visitor passes, verified offline (docs/credentials.md, "Visitor passes").
 *
 * The platform issues a pass as a compact signed token and the resident sends it to the visitor
 * as a QR code:
 *
 *     EGP1.<payload>.<signature>
 *
 * `payload` is base64url of the JSON `{"id","doors","from","until","uses","name"?}` (`from` and
 * `until` in seconds since the epoch), `signature` is base64url of the Ed25519 signature, by the
 * platform's key, of the ASCII text `EGP1.<payload>`. The gateway holds only the public key:
 * nothing on the Pi can make a pass.
 *
 * How often each pass was used, and which passes the platform revoked, are kept in
 * `passes.json` in the data dir. A use is written (fsync, rename) before the door is told to
 * open, so neither a reboot nor a power cut gives a pass back a use.
 */
import type { KeyObject } from 'node:crypto';
import { sign, verify } from 'node:crypto';
import { loadEd25519PublicKey } from '../core/keys.js';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { clockTrusted } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { AccessRefusal } from '../core/events.js';
import { JsonFile } from '../core/json-file.js';
import type { Logger } from '../core/log.js';

export const PASS_PREFIX = 'EGP1.';
/** A pass's text is at most this long (a QR code a phone shows and a cheap reader reads is far smaller). */
export const PASS_MAX_CHARS = 1024;
/** Uses remembered after a pass ends (clock drift between platform and gateway); revocations without an end, this long. */
const KEEP_AFTER_END_MS = 24 * 3600_000;
const REVOKED_DEFAULT_MS = 400 * 24 * 3600_000;
/** The most passes (used or revoked) remembered; a pass beyond this is refused rather than forgotten. */
export const MAX_REMEMBERED_PASSES = 50_000;

const claims = z.strictObject({
  id: z.string().min(1).max(64),
  doors: z.array(z.string().min(1).max(64)).min(1).max(64),
  from: z.int().min(0),
  until: z.int().min(0),
  uses: z.int().min(1).max(10_000),
  name: z.string().max(100).optional(),
});
export type Pass = z.output<typeof claims>;

export type PassRead = { ok: true; pass: Pass } | { ok: false; reason: Extract<AccessRefusal, 'malformed' | 'bad-signature'>; pass?: string };

/**
 * Makes a pass's text as the platform does (tests, tools, docs/credentials.md's example):
 * `privateKey` is the platform's Ed25519 key, which never goes on a gateway.
 */
export function signPass(pass: Pass, privateKey: KeyObject | string | Buffer): string {
  const payload = Buffer.from(JSON.stringify(pass), 'utf8').toString('base64url');
  const signature = sign(null, Buffer.from(PASS_PREFIX + payload, 'ascii'), privateKey).toString('base64url');
  return `${PASS_PREFIX}${payload}.${signature}`;
}

/** Whether a reader's text is meant as a pass (then it is judged as one, never as a card number). */
export function looksLikePass(text: string): boolean {
  return text.startsWith(PASS_PREFIX);
}

/** The platform's public key, from a PEM file (the same form as the fleet's upgrade key). */
export const loadPublicKey = loadEd25519PublicKey;

/** Reads and checks the signature of a pass's text; says nothing yet about time, door or uses. */
export function readPass(text: string, key: KeyObject): PassRead {
  if (!looksLikePass(text) || text.length > PASS_MAX_CHARS) return { ok: false, reason: 'malformed' };
  const parts = text.slice(PASS_PREFIX.length).split('.');
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = claims.safeParse(body);
  // The id of a pass that cannot be trusted is still worth recording, as the platform wrote it.
  const claimedId = typeof (body as { id?: unknown })?.id === 'string' ? String((body as { id: string }).id).slice(0, 64) : undefined;
  const sig = Buffer.from(signature, 'base64url');
  let good = false;
  try {
    good = sig.length === 64 && verify(null, Buffer.from(PASS_PREFIX + payload, 'ascii'), key, sig);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature', ...(claimedId ? { pass: claimedId } : {}) };
  if (!parsed.success) return { ok: false, reason: 'malformed', ...(claimedId ? { pass: claimedId } : {}) };
  return { ok: true, pass: parsed.data };
}

export type PassUse = { ok: true; pass: Pass; remainingUses: number } | { ok: false; reason: AccessRefusal; pass?: Pass };

interface PassState {
  /** [id, uses so far, remember until (ms)] */
  used: Array<[string, number, number]>;
  /** [id, revoked until (ms)] */
  revoked: Array<[string, number]>;
}
const stateFile = z.strictObject({
  used: z.array(z.tuple([z.string(), z.int().min(0), z.number()])),
  revoked: z.array(z.tuple([z.string(), z.number()])),
});

export interface PassSeen {
  id: string;
  name?: string;
  uses: number;
  used: number;
  until: string;
  revoked: boolean;
}

/** The uses and revocations of passes, on disk; the judge of whether a pass opens a door now. */
export class PassBook {
  private readonly used = new Map<string, { count: number; keepUntil: number; pass?: Pass }>();
  private readonly revoked = new Map<string, number>();
  private readonly file: JsonFile<PassState> | undefined;

  constructor(
    dataDir: string | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.file = dataDir
      ? new JsonFile(join(dataDir, 'passes.json'), { mode: 0o600, onError: (err) => log.error({ err: errorMessage(err) }, 'passes.json could not be saved') })
      : undefined;
    const loaded = this.file?.load((v) => stateFile.parse(v));
    if (loaded && !loaded.ok)
      log.error({ movedTo: loaded.movedTo, reason: loaded.reason }, 'passes.json was unreadable and was moved aside; passes used before may be used again');
    if (loaded?.ok && loaded.value) {
      for (const [id, count, keepUntil] of loaded.value.used) this.used.set(id, { count, keepUntil });
      for (const [id, until] of loaded.value.revoked) this.revoked.set(id, until);
    }
  }

  /**
   * Judges a pass at `door` now and, if it opens, counts the use on disk before answering. In
   * this order: revoked, clock not trusted, not yet valid, expired, wrong door, used up.
   */
  use(pass: Pass, door: string): PassUse {
    const now = this.clock.now();
    this.forget(now);
    if (this.revoked.has(pass.id)) return { ok: false, reason: 'revoked', pass };
    // A clock not synchronised since boot may be hours or days behind: a pass's window cannot be judged on it.
    if (!clockTrusted(this.clock)) return { ok: false, reason: 'clock-unsynced', pass };
    if (now < pass.from * 1000) return { ok: false, reason: 'not-yet-valid', pass };
    if (now > pass.until * 1000) return { ok: false, reason: 'expired', pass };
    if (!pass.doors.includes(door)) return { ok: false, reason: 'wrong-door', pass };
    const entry = this.used.get(pass.id) ?? { count: 0, keepUntil: pass.until * 1000 + KEEP_AFTER_END_MS };
    if (entry.count >= pass.uses) return { ok: false, reason: 'used-up', pass };
    if (!this.used.has(pass.id) && this.used.size >= MAX_REMEMBERED_PASSES) {
      this.log.error({ remembered: this.used.size }, 'too many passes in use to remember another; refusing it');
      return { ok: false, reason: 'not-recorded', pass };
    }
    this.used.set(pass.id, { count: entry.count + 1, keepUntil: entry.keepUntil, pass });
    try {
      this.saveNow();
    } catch (err) {
      // Not written: the use could be replayed after a restart. Refuse rather than promise one use and give two.
      this.used.set(pass.id, entry);
      this.log.error({ err: errorMessage(err) }, 'a pass use could not be written; the pass is refused');
      return { ok: false, reason: 'not-recorded', pass };
    }
    return { ok: true, pass, remainingUses: pass.uses - entry.count - 1 };
  }

  /** The platform revoked these passes (until `untilMs`, default 400 days). Written before answering. */
  revoke(ids: readonly string[], untilMs?: number): number {
    const until = untilMs ?? this.clock.now() + REVOKED_DEFAULT_MS;
    let added = 0;
    for (const id of ids) {
      if (!this.revoked.has(id)) added++;
      this.revoked.set(id, Math.max(until, this.revoked.get(id) ?? 0));
    }
    while (this.revoked.size > MAX_REMEMBERED_PASSES) this.revoked.delete(this.revoked.keys().next().value!);
    this.saveNow();
    return added;
  }

  /** Passes seen since start (for the console: name, uses left), newest last. */
  seen(): PassSeen[] {
    const out: PassSeen[] = [];
    const now = this.clock.now() / 1000;
    for (const [id, e] of this.used) {
      // what a guard needs: the passes that can still be shown, not every one since start
      if (!e.pass || e.pass.until <= now) continue;
      out.push({
        id,
        ...(e.pass.name ? { name: e.pass.name } : {}),
        uses: e.pass.uses,
        used: e.count,
        until: new Date(e.pass.until * 1000).toISOString(),
        revoked: this.revoked.has(id),
      });
    }
    return out;
  }

  /** Remembers a pass that was refused (so the console can show it), without counting a use. */
  note(pass: Pass): void {
    const e = this.used.get(pass.id);
    if (e) e.pass = pass;
  }

  private forgotAt = Number.NEGATIVE_INFINITY;

  /** Drops uses and revocations past their time; at most once a minute, as it looks at every pass. */
  private forget(now: number): void {
    if (now - this.forgotAt < 60_000) return;
    this.forgotAt = now;
    for (const [id, e] of this.used) if (e.keepUntil < now) this.used.delete(id);
    for (const [id, until] of this.revoked) if (until < now) this.revoked.delete(id);
  }

  private saveNow(): void {
    this.file?.saveSync({
      used: [...this.used].map(([id, e]) => [id, e.count, e.keepUntil] as [string, number, number]),
      revoked: [...this.revoked],
    });
  }
}
