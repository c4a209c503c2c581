/**
 * Visitor passes and residents' cards, decided offline (access/credentials.ts): every refusal
 * with its reason, uses that survive a restart, revocations, card windows; and the readers'
 * framing (serial bytes, keyboard records of both sizes).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inSchedule, normalizeCard } from '../access/cards.js';
import { Credentials } from '../access/credentials.js';
import { validateConfig } from '../config/load.js';
import type { Pass } from '../access/passes.js';
import { signPass } from '../access/passes.js';
import type { Clock } from '../core/clock.js';
import { ManualClock } from '../core/clock.js';
import { FrameSplitter } from '../drivers/readers/frames.js';
import { KeyboardDecoder, inputEventSize, typeAsKeyboard } from '../drivers/readers/keyboard.js';
import { seededRandom, siteConfig, silentLog } from './helpers.js';
import { ACCESS_REFUSALS } from '../core/events.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const NOW = Date.parse('2026-12-01T10:00:00+08:00');

function fixture(opts: { cards?: unknown[]; synced?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'eg-cred-'));
  const keyFile = join(dir, 'platform.pub.pem');
  writeFileSync(keyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const config = siteConfig({
    devices: [
      { id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' },
      { id: 'door-b', type: 'door', lock: { io: 'sim', pin: 2 }, lockType: 'fail-secure' },
    ],
    io: [{ id: 'sim', type: 'sim' }],
    access: { passes: { publicKey: keyFile }, cards: opts.cards ?? [] },
  });
  const time = { now: NOW, synced: opts.synced ?? true };
  const clock: Clock = {
    now: () => time.now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    synced: () => time.synced,
  };
  const make = () => {
    const c = new Credentials({ access: config.access, dataDir: config.gateway.dataDir, clock, log: silentLog });
    c.cards.load(); // as AccessControl.load does at start
    return c;
  };
  return { make, time, dir: config.gateway.dataDir };
}

const pass = (over: Partial<Pass> = {}): Pass => ({
  id: 'p-1',
  doors: ['door-a'],
  from: NOW / 1000 - 3600,
  until: NOW / 1000 + 3600,
  uses: 2,
  name: '王五',
  ...over,
});

describe('QR visitor passes', () => {
  it('a good pass opens its door, counts its uses, and is refused once used up', () => {
    const { make } = fixture();
    const c = make();
    const text = signPass(pass(), keys.privateKey);
    expect(c.decide(text, 'door-a', ['qr', 'card'])).toEqual({ ok: true, kind: 'qr', pass: 'p-1', remainingUses: 1, name: '王五' });
    expect(c.decide(text, 'door-a', ['qr'])).toMatchObject({ ok: true, remainingUses: 0 });
    expect(c.decide(text, 'door-a', ['qr'])).toEqual({ ok: false, kind: 'qr', reason: 'used-up', pass: 'p-1' });
  });

  it('the passes listed for the console are those seen that can still be shown, not every one since start', () => {
    const { make, time } = fixture();
    const c = make();
    c.decide(signPass(pass({ id: 'p-short', until: NOW / 1000 + 60 }), keys.privateKey), 'door-a', ['qr']);
    c.decide(signPass(pass({ id: 'p-long' }), keys.privateKey), 'door-a', ['qr']);
    expect(c.passes.seen().map((p) => p.id)).toEqual(['p-short', 'p-long']);
    time.now = NOW + 61_000;
    expect(c.passes.seen().map((p) => p.id)).toEqual(['p-long']);
  });

  it('a used pass is still used after a restart (uses are on disk before the door opens)', () => {
    const { make } = fixture();
    const text = signPass(pass({ uses: 1 }), keys.privateKey);
    expect(make().decide(text, 'door-a', ['qr'])).toMatchObject({ ok: true });
    // a new process, the same data dir: the replay is refused
    expect(make().decide(text, 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'used-up' });
  });

  it.each([
    ['expired', pass({ until: NOW / 1000 - 1 }), 'door-a', 'expired'],
    ['not yet valid', pass({ from: NOW / 1000 + 60 }), 'door-a', 'not-yet-valid'],
    ['for another door', pass(), 'door-b', 'wrong-door'],
  ] as const)('a pass %s is refused with its reason', (_name, p, door, reason) => {
    const { make } = fixture();
    expect(make().decide(signPass(p, keys.privateKey), door, ['qr'])).toEqual({ ok: false, kind: 'qr', reason, pass: 'p-1' });
  });

  it('a pass signed by another key, or altered after signing, is refused as badly signed', () => {
    const { make } = fixture();
    const c = make();
    expect(c.decide(signPass(pass(), otherKeys.privateKey), 'door-a', ['qr'])).toEqual({ ok: false, kind: 'qr', reason: 'bad-signature', pass: 'p-1' });
    const good = signPass(pass(), keys.privateKey);
    const [prefix, payload, sig] = good.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...pass(), uses: 99 })).toString('base64url');
    expect(c.decide(`${prefix}.${forged}.${sig}`, 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(c.decide(`${prefix}.${payload}`, 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'malformed' });
    expect(c.decide(`EGP1.${'A'.repeat(2000)}.x`, 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'malformed' });
    // none of these used the pass up
    expect(c.decide(good, 'door-a', ['qr'])).toMatchObject({ ok: true, remainingUses: 1 });
  });

  it('a pass whose use cannot be written is refused (not-recorded), and not counted', () => {
    const { make, dir } = fixture();
    const c = make();
    // something in the way of passes.json (a directory with a file in it): the write cannot land, even as root
    mkdirSync(join(dir, 'passes.json', 'in-the-way'), { recursive: true });
    const text = signPass(pass({ uses: 1 }), keys.privateKey);
    expect(c.decide(text, 'door-a', ['qr'])).toEqual({ ok: false, kind: 'qr', reason: 'not-recorded', pass: 'p-1' });
    rmSync(join(dir, 'passes.json'), { recursive: true });
    expect(c.decide(text, 'door-a', ['qr'])).toMatchObject({ ok: true, remainingUses: 0 });
  });

  it('a revoked pass is refused, also after a restart', () => {
    const { make } = fixture();
    make().passes.revoke(['p-1']);
    expect(make().decide(signPass(pass(), keys.privateKey), 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('is refused while the clock is not synchronised since boot (its window cannot be judged)', () => {
    const { make } = fixture({ synced: false });
    expect(make().decide(signPass(pass(), keys.privateKey), 'door-a', ['qr'])).toMatchObject({ ok: false, reason: 'clock-unsynced' });
  });

  it('a reader that takes cards only refuses a pass as not accepted, without using it', () => {
    const { make } = fixture();
    const c = make();
    const text = signPass(pass({ uses: 1 }), keys.privateKey);
    expect(c.decide(text, 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'not-accepted' });
    expect(c.decide(text, 'door-a', ['qr'])).toMatchObject({ ok: true });
  });
});

describe("residents' cards", () => {
  const cards = [
    { card: '0012345678', name: 'A-1203' },
    { card: 'AB:CD:EF:01', doors: ['door-b'] },
    { card: '777', from: '2026-12-02', until: '2027-06-30' },
    { card: '888', schedule: [{ days: [1, 2, 3, 4, 5], from: '07:00', to: '19:00' }] },
  ];

  it('cards are compared without separators, case or leading zeros', () => {
    expect(normalizeCard('0012345678')).toBe('12345678');
    expect(normalizeCard('ab:cd:ef:01')).toBe('ABCDEF01');
    expect(normalizeCard(' 0 ')).toBe('0');
    expect(normalizeCard('EGP2.x')).toBeNull();
  });

  it('opens where and when the list says, and names why not', () => {
    const { make } = fixture({ cards });
    const c = make();
    expect(c.decide('12345678', 'door-a', ['card'])).toEqual({ ok: true, kind: 'card', card: '12345678', name: 'A-1203' });
    expect(c.decide('ABCDEF01', 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'wrong-door' });
    expect(c.decide('abcdef01', 'door-b', ['card'])).toMatchObject({ ok: true });
    expect(c.decide('777', 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'not-yet-valid' }); // 2026-12-01 (Tuesday)
    expect(c.decide('999', 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'not-listed', card: '999' });
    expect(c.decide('hello?', 'door-a', ['card'])).toEqual({ ok: false, kind: undefined, reason: 'unreadable' });
  });

  it('a card limited in time is refused on an unsynchronised clock; one without limits still opens', () => {
    const { make } = fixture({ cards, synced: false });
    const c = make();
    expect(c.decide('888', 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'clock-unsynced' });
    expect(c.decide('12345678', 'door-a', ['card'])).toMatchObject({ ok: true });
  });

  it('weekly windows: weekdays 07:00-19:00, and a night window that runs past midnight', () => {
    const weekdays = [{ days: [1, 2, 3, 4, 5], from: '07:00', to: '19:00' }];
    expect(inSchedule(weekdays, new Date(2026, 11, 1, 7, 0))).toBe(true); // Tuesday
    expect(inSchedule(weekdays, new Date(2026, 11, 1, 19, 0))).toBe(false);
    expect(inSchedule(weekdays, new Date(2026, 11, 6, 12, 0))).toBe(false); // Sunday
    const night = [{ days: [1], from: '22:00', to: '06:00' }];
    expect(inSchedule(night, new Date(2026, 10, 30, 23, 0))).toBe(true); // Monday 23:00
    expect(inSchedule(night, new Date(2026, 11, 1, 5, 59))).toBe(true); // Tuesday 05:59
    expect(inSchedule(night, new Date(2026, 11, 1, 23, 0))).toBe(false); // Tuesday 23:00
  });

  it("the platform's list is versioned like the plates and survives a restart", () => {
    const { make } = fixture();
    const c = make();
    expect(c.cards.upsert([{ card: '4242', doors: ['door-a'] }], 5)).toEqual({ ok: true, version: 5, count: 1 });
    expect(c.cards.upsert([{ card: '4343' }], 4)).toMatchObject({ ok: false, error: 'stale-version' });
    expect(c.cards.upsert([{ card: 'not a card' }])).toEqual({
      ok: false,
      error: 'invalid',
      message: 'cards[0].card: expected a card number (decimal or hex digits, as the reader gives it)',
    });
    expect(c.decide('4242', 'door-a', ['card'])).toMatchObject({ ok: true });
    return c.flush().then(() => {
      const again = make();
      expect(again.cards.version).toBe(5);
      expect(again.decide('4242', 'door-a', ['card'])).toMatchObject({ ok: true });
      expect(again.cards.remove(['4242'], 6)).toEqual({ ok: true, version: 6, count: 1 });
      expect(again.decide('4242', 'door-a', ['card'])).toMatchObject({ ok: false, reason: 'not-listed' });
    });
  });
});

describe('reader framing', () => {
  it('splits CR, LF, CR LF and STX..ETX frames, split anywhere across chunks', () => {
    const clock = new ManualClock();
    const stream = Buffer.from('EGP1.abc.def\r\n12345678\n\x0200AB12CD\x03\r\nlast\r');
    for (let split = 1; split < stream.length; split++) {
      const texts: string[] = [];
      const f = new FrameSplitter({ text: (t) => texts.push(t), bad: () => texts.push('BAD') }, clock);
      f.push(stream.subarray(0, split));
      f.push(stream.subarray(split));
      expect(texts).toEqual(['EGP1.abc.def', '12345678', '00AB12CD', 'last']);
    }
  });

  it('a read with no terminator ends after a pause; noise and overlong reads are reported, not read', () => {
    const clock = new ManualClock();
    const advance = (ms: number) => clock.advance(ms);
    const got: string[] = [];
    const f = new FrameSplitter({ text: (t) => got.push(t), bad: (r, n) => got.push(`bad:${r}:${n}`) }, clock, { idleMs: 50, maxChars: 16 });
    f.push(Buffer.from('1234'));
    advance(40);
    f.push(Buffer.from('5678'));
    expect(got).toEqual([]);
    advance(50);
    expect(got).toEqual(['12345678']);
    f.push(Buffer.from([0x41, 0xff, 0x42, 0x0d]));
    f.push(Buffer.from(`${'9'.repeat(40)}\r\nOK\r\n`));
    expect(got).toEqual(['12345678', 'bad:not-text:3', 'bad:too-long:16', 'OK']);
  });

  it.each([16, 24] as const)('keyboard-mode readers: %i-byte input_event records, capitals and _ by shift, split anywhere', (size) => {
    const text = 'EGP1.eyJpZCI6InAtMSJ9.AbC-_xyz09';
    const bytes = Buffer.concat([typeAsKeyboard(text, size), typeAsKeyboard('0012345678', size)]);
    for (const split of [1, 7, size, size + 3, Math.floor(bytes.length / 2)]) {
      const lines: string[] = [];
      const d = new KeyboardDecoder((l) => lines.push(l), size);
      d.push(bytes.subarray(0, split));
      d.push(bytes.subarray(split));
      expect(lines).toEqual([text, '0012345678']);
    }
  });

  it('noise on the line (10,000 random chunks): no exception, and only printable reads of at most 1024 characters come out, each judged with a reason', () => {
    const rnd = seededRandom(645);
    const clock = new ManualClock();
    const advance = (ms: number) => clock.advance(ms);
    const texts: string[] = [];
    let bad = 0;
    const f = new FrameSplitter({ text: (t) => texts.push(t), bad: () => bad++ }, clock);
    const kbd = new KeyboardDecoder((t) => texts.push(t), 24);
    for (let i = 0; i < 10_000; i++) {
      const chunk = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => (rnd() < 0.7 ? 0x20 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256))));
      f.push(chunk);
      kbd.push(chunk);
      if (rnd() < 0.1) advance(60);
    }
    expect(texts.length).toBeGreaterThan(10); // the noise did make reads
    expect(bad).toBeGreaterThan(10); // and frames that were refused as not text or too long
    for (const t of texts) expect(t).toMatch(/^[\x20-\x7e]{1,1024}$/);
    const { make } = fixture({ cards: [{ card: '12345678' }] });
    const c = make();
    for (const t of [...texts, `EGP1.${'x'.repeat(300)}.y`, 'EGP1..', 'EGP1.e30.AAAA']) {
      const d = c.decide(t, 'door-a', ['qr', 'card']);
      if (!d.ok) expect(ACCESS_REFUSALS).toContain(d.reason);
    }
  });

  it('reads records of the size this process uses: 24 bytes on 64-bit, 16 on 32-bit ARM', () => {
    expect(inputEventSize('arm64')).toBe(24);
    expect(inputEventSize('x64')).toBe(24);
    expect(inputEventSize('arm')).toBe(16);
  });
});

describe('validate: readers, terminals and cards', () => {
  const base = (devices: unknown[], access: Record<string, unknown> = {}) =>
    validateConfig({
      site: { id: 's' },
      gateway: { id: 'g', dataDir: '/tmp/eg-unused' },
      io: [{ id: 'sim', type: 'sim' }],
      devices: [
        { id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' },
        { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 2 } },
        ...devices,
      ],
      access,
    });
  const problems = (r: ReturnType<typeof validateConfig>) => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));

  it('a reader needs its device (port or keyboard, one of them) and opens a door that exists', () => {
    expect(problems(base([{ id: 'r1', type: 'reader', door: 'door-a' }]))).toEqual([
      'devices[2].port: required: port (a serial reader) or keyboard (a keyboard-mode reader)',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', door: 'door-a', port: '/dev/ttyUSB0', keyboard: '/dev/input/event3' }]))).toEqual([
      'devices[2].keyboard: give either port (a serial reader) or keyboard (a keyboard-mode reader), not both, got "/dev/input/event3"',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', door: 'gate', port: '/dev/ttyUSB0' }]))).toEqual([
      'devices[2].door: "gate" is a barrier; expected a door',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', door: 'door-b', port: '/dev/ttyUSB0' }]))).toEqual([
      'devices[2].door: no door "door-b"; did you mean "door-a"?',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', port: '/dev/ttyUSB0' }]))).toEqual([
      'devices[2].door: required: door (the door this reader opens) or lane (a barrier or bollard)',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', lane: 'door-a', port: '/dev/ttyUSB0' }]))).toEqual([
      'devices[2].lane: "door-a" is a door; a lane must be a barrier or bollard',
    ]);
    expect(problems(base([{ id: 'r1', type: 'reader', lane: 'gate', port: '/dev/ttyUSB0' }]))).toEqual([]);
    expect(
      problems(
        base([
          { id: 'r1', type: 'reader', door: 'door-a', port: '/dev/ttyUSB0' },
          { id: 'r2', type: 'reader', door: 'door-a', port: '/dev/ttyUSB0' },
        ]),
      ),
    ).toEqual(['devices[3].port: serial port /dev/ttyUSB0 is already used by devices[2]']);
    expect(problems(base([{ id: 'r1', type: 'reader', door: 'door-a', keyboard: '/dev/input/event3', accepts: ['qr', 'face'] }]))).toEqual([
      'devices[2].accepts[1]: expected one of qr|card, got "face"',
    ]);
  });

  it('cards: numbers as readers give them, doors that exist, real dates and clock times', () => {
    expect(
      problems(
        base([], {
          cards: [{ card: '0012345678', doors: ['door-a'], from: '2026-12-01', until: '2027-06-30', schedule: [{ days: [1, 5], from: '07:00', to: '19:30' }] }],
        }),
      ),
    ).toEqual([]);
    expect(problems(base([], { cards: [{ card: 'ABC-XYZ' }] }))).toEqual([
      'access.cards[0].card: expected a card number (decimal or hex digits, as the reader gives it), got "ABC-XYZ"',
    ]);
    expect(problems(base([], { cards: [{ card: '1', doors: ['gate'] }] }))).toEqual([]); // a lane, for a reader at a barrier
    expect(problems(base([], { cards: [{ card: '1', doors: ['gaet'] }] }))).toEqual(['access.cards[0].doors[0]: no door "gaet"']);
    expect(problems(base([], { cards: [{ card: '1', schedule: [{ days: [8], from: '7:00', to: '19:00' }] }] }))).toEqual([
      'access.cards[0].schedule[0].days[0]: expected 1 (Monday) to 7 (Sunday), got 8',
      'access.cards[0].schedule[0].from: expected a time such as 07:30 (24-hour), got "7:00"',
    ]);
  });

  it('a terminal takes pushes only from the addresses it lists', () => {
    expect(problems(base([{ id: 't1', type: 'access-terminal', vendor: 'hikvision', allowFrom: [] }]))).toEqual([
      'devices[2].allowFrom: expected at least one address the terminal pushes from, got a list',
    ]);
    expect(problems(base([{ id: 't1', type: 'access-terminal', vendor: 'zkteco', allowFrom: ['10.0.0.5'] }]))).toEqual([
      'devices[2].vendor: expected one of hikvision|dahua, got "zkteco"',
    ]);
  });
});
