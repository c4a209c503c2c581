/**
 * What a reader's text means at a door, decided locally (docs/credentials.md): a QR visitor pass
 * (signed by the platform, its uses counted on disk) or a resident's card (from the synced card
 * list). The one place these rules live; readers only read, doors only open.
 */
import type { KeyObject } from 'node:crypto';
import type { AccessConfig, CredentialKind } from '../schema/sections.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { AccessRefusal } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { CardFormat } from './card-format.js';
import { canonicalCard } from './card-format.js';
import { CardList, normalizeCard } from './cards.js';
import { PassBook, loadPublicKey, looksLikePass, readPass } from './passes.js';

export type CredentialDecision =
  | { ok: true; kind: CredentialKind; pass?: string; remainingUses?: number; card?: string; name?: string }
  | { ok: false; kind: CredentialKind | undefined; reason: AccessRefusal; pass?: string; card?: string };

export interface CredentialsDeps {
  access: AccessConfig;
  dataDir: string | undefined;
  clock: Clock;
  log: Logger;
}

export class Credentials {
  readonly cards: CardList;
  readonly passes: PassBook;
  private readonly key: KeyObject | undefined;

  constructor(deps: CredentialsDeps) {
    // cards.json is loaded with the plates (AccessControl.load), which reports a corrupt file
    this.cards = new CardList(deps.access.cards, deps.dataDir, deps.clock, deps.log.child({ component: 'cards' }));
    this.passes = new PassBook(deps.dataDir, deps.clock, deps.log.child({ component: 'passes' }));
    const keyFile = deps.access.passes?.publicKey;
    if (keyFile) {
      try {
        this.key = loadPublicKey(keyFile);
      } catch (err) {
        // validate and doctor say so too; here the gateway runs on, refusing passes with the reason.
        deps.log.error({ file: keyFile, err: errorMessage(err) }, 'the visitor pass key could not be read; QR passes are refused');
      }
    }
  }

  /** Whether QR passes can be checked (the platform's key is loaded). */
  get passesEnabled(): boolean {
    return this.key !== undefined;
  }

  /**
   * Decides a reader's text at `door`. A pass that opens has its use written to disk before this
   * returns. `accepts`: what the reader is configured to take.
   */
  decide(text: string, door: string, accepts: readonly CredentialKind[], cardFormat: CardFormat = 'as-read'): CredentialDecision {
    const t = text.trim();
    if (looksLikePass(t)) {
      if (!accepts.includes('qr')) return { ok: false, kind: 'qr', reason: 'not-accepted' };
      if (!this.key) return { ok: false, kind: 'qr', reason: 'not-configured' };
      const read = readPass(t, this.key);
      if (!read.ok) return { ok: false, kind: 'qr', reason: read.reason, ...(read.pass ? { pass: read.pass } : {}) };
      const use = this.passes.use(read.pass, door);
      if (!use.ok) {
        this.passes.note(read.pass);
        return { ok: false, kind: 'qr', reason: use.reason, pass: read.pass.id };
      }
      return { ok: true, kind: 'qr', pass: use.pass.id, remainingUses: use.remainingUses, ...(use.pass.name ? { name: use.pass.name } : {}) };
    }
    // a card number, in the list's form (access/card-format.ts); as read when it is not in the reader's format
    const read = canonicalCard(t, cardFormat);
    const card = read?.card ?? normalizeCard(t);
    if (!card) return { ok: false, kind: undefined, reason: 'unreadable' };
    if (!accepts.includes('card')) return { ok: false, kind: 'card', reason: 'not-accepted', card };
    const check = this.cards.check(read ?? card, door);
    if (!check.ok) return { ok: false, kind: 'card', reason: check.reason, card };
    return { ok: true, kind: 'card', card, ...(check.entry.name ? { name: check.entry.name } : {}) };
  }

  async flush(): Promise<void> {
    await this.cards.flush();
  }
}
