/**
 * One card, one number (#22): the same card printed five ways by five readers opens the same
 * list entry, written in the 10-digit form. The example is the field note's (DOMAIN.md): a card
 * whose UID prints as 87FA368D is read by 10-digit readers as 2369190535 (its bytes the other way).
 */
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS, canonicalCard, low24Of } from '../access/card-format.js';
import { Credentials } from '../access/credentials.js';
import { systemClock } from '../core/clock.js';
import { siteConfig, silentLog } from './helpers.js';

const UID = '87FA368D';
const TEN_DIGIT = '2369190535';

describe('card formats', () => {
  it.each([
    ['decimal', '2369190535', TEN_DIGIT],
    ['decimal', '02369190535', TEN_DIGIT],
    ['hex', UID, TEN_DIGIT],
    ['hex', '87:fa:36:8d', TEN_DIGIT],
    ['hex-reversed', '8D36FA87', TEN_DIGIT],
    ['decimal-reversed', String(0x87fa368d), TEN_DIGIT],
    ['as-read', '0087FA368D', '87FA368D'],
  ] as const)('%s: %s is %s', (format, read, card) => {
    expect(canonicalCard(read, format)).toEqual({ card });
  });

  it('Wiegand 26 carries the low 3 bytes as facility.number: 054.64135 is the low 24 bits of 2369190535', () => {
    expect(canonicalCard('054.64135', 'wiegand26')).toEqual({ card: String(0x36fa87), low24: true });
    expect(canonicalCard('05464135', 'wiegand26')).toEqual({ card: String(0x36fa87), low24: true });
    expect(low24Of(TEN_DIGIT)).toBe(String(0x36fa87));
  });

  it.each([
    ['decimal', '4294967296'],
    ['decimal', '12AB'],
    ['hex', '87FA36'],
    ['hex', 'XYZXYZXY'],
    ['wiegand26', '256.1'],
    ['wiegand26', '1.65536'],
  ] as const)('%s refuses %s', (format, read) => {
    expect(canonicalCard(read, format)).toBeNull();
  });

  it('every format is listed for the config', () => {
    expect(CARD_FORMATS).toEqual(['as-read', 'decimal', 'hex', 'hex-reversed', 'decimal-reversed', 'wiegand26']);
  });
});

describe('one card opens the same entry from every reader', () => {
  const config = siteConfig({
    io: [{ id: 'sim', type: 'sim' }],
    devices: ['door-a', 'door-b'].map((id, i) => ({ id, type: 'door', lock: { io: 'sim', pin: i + 1 }, lockType: 'fail-secure' })),
    access: { cards: [{ card: `0${TEN_DIGIT}`, doors: ['door-a'], name: '3-1201' }] },
  });
  const credentials = new Credentials({ access: config.access, dataDir: config.gateway.dataDir, clock: systemClock, log: silentLog });
  credentials.cards.load();

  it.each([
    ['decimal', TEN_DIGIT],
    ['hex', UID],
    ['hex-reversed', '8D36FA87'],
    ['decimal-reversed', String(0x87fa368d)],
    ['wiegand26', '054.64135'],
  ] as const)('a %s reader (%s) opens door-a as 3-1201', (format, read) => {
    expect(credentials.decide(read, 'door-a', ['card'], format)).toMatchObject({ ok: true, kind: 'card', name: '3-1201' });
  });

  it('as read, a hex reader does not match the 10-digit list (why cardFormat exists)', () => {
    expect(credentials.decide(UID, 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'not-listed' });
  });

  it('another card, or the right one at the wrong door, is refused', () => {
    expect(credentials.decide('87FA368E', 'door-a', ['card'], 'hex')).toMatchObject({ ok: false, reason: 'not-listed' });
    expect(credentials.decide('054.64136', 'door-a', ['card'], 'wiegand26')).toMatchObject({ ok: false, reason: 'not-listed' });
    expect(credentials.decide(UID, 'door-b', ['card'], 'hex')).toMatchObject({ ok: false, reason: 'wrong-door' });
  });
});
