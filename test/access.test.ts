import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessControl } from '../access/access.js';
import type { PendingDecision, PendingOutcome, Read } from '../access/access.js';
import { isNewEnergy, normalizePlate } from '../access/plate.js';
import { PlateList, endOf } from '../access/plates.js';
import { feeCents } from '../access/tariff.js';
import type { LprCameraConfig } from '../devices/lpr-camera/index.js';
import { systemClock } from '../core/clock.js';
import { siteConfig, silentLog } from './helpers.js';

describe('plate normalisation', () => {
  it.each([
    ['粤B12345', '粤B12345', true],
    ['粤b12345', '粤B12345', true],
    ['粤Ｂ１２３４５', '粤B12345', true], // full-width letters and digits
    [' 粤 B 123 45 ', '粤B12345', true],
    ['粤B·12345', '粤B12345', true],
    ['粤B-12345', '粤B12345', true],
    ['粤B.12345', '粤B12345', true],
    ['粤B•12345', '粤B12345', true],
    ['粤BD12345', '粤BD12345', true], // new energy, 6 after the office letter
    ['粤B12345F', '粤B12345F', true],
    ['粤B1234学', '粤B1234学', true],
    ['粤B1234挂', '粤B1234挂', true],
    ['使014578', '使014578', true],
    ['ＡＢＣ', 'ABC', false],
    ['粤B123', '粤B123', false], // too short: kept as read, flagged
  ])('%j → %s (plate shape %s)', (raw, plate, valid) => {
    expect(normalizePlate(raw)).toEqual({ plate, valid });
  });

  it.each(['unknown', 'UNKNOWN', '无车牌', '_无_', '', '   ', '-', null, undefined, '无'])('%j is no plate', (raw) => {
    expect(normalizePlate(raw)).toEqual({ plate: null, valid: false });
  });

  it('keeps at most 16 characters of a silly read', () => {
    expect(normalizePlate('A'.repeat(1000)).plate).toHaveLength(16);
  });

  it('knows new-energy plates', () => {
    expect(isNewEnergy('粤BD12345')).toBe(true);
    expect(isNewEnergy('粤B12345')).toBe(false);
  });
});

describe('the tariff', () => {
  const t = { freeMinutes: 30, perHourCents: 500, dailyCapCents: 5000 };
  const H = 3600;
  it.each([
    [0, 0],
    [30 * 60, 0], // exactly the free time
    [30 * 60 + 1, 500], // one second over: charged from entry, one started hour
    [H, 500],
    [H + 1, 1000],
    [9 * H + 59 * 60, 5000], // 10 started hours = 5000, at the cap
    [23 * H, 5000],
    [24 * H, 5000], // one full day
    [24 * H + 1, 5500], // a day and a started hour
    [24 * H + 11 * H, 10000], // a day and 11 hours: the second period capped too
    [3 * 24 * H + 2 * H, 3 * 5000 + 1000],
    [-5, 0],
  ])('%i s costs %i cents', (seconds, cents) => {
    expect(feeCents(seconds, t)).toBe(cents);
  });

  it('without a cap charges every started hour', () => {
    expect(feeCents(50 * H, { freeMinutes: 0, perHourCents: 300 })).toBe(15000);
    expect(feeCents(1, { freeMinutes: 0, perHourCents: 300 })).toBe(300);
  });

  it('a cap above 24 hours of rate never raises the price of a full day', () => {
    expect(feeCents(48 * H, { freeMinutes: 0, perHourCents: 100, dailyCapCents: 10_000 })).toBe(4800);
  });
});

describe('plate validity dates', () => {
  it('a bare date lasts to the end of that day, local time', () => {
    const end = new Date(endOf('2027-12-31'));
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()]).toEqual([2027, 11, 31, 23, 59]);
  });
  it('a time is exact', () => {
    expect(endOf('2027-12-31T18:00:00+08:00')).toBe(Date.parse('2027-12-31T10:00:00Z'));
  });
});

describe('the plate list', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'eg-plates-'))));
  const list = () => {
    const l = new PlateList([{ plate: '粤B12345', lanes: ['gate-north'] }, { plate: '粤 BD12345' }], dir, systemClock, silentLog);
    l.load();
    return l;
  };

  it('matches normalised plates, lanes and expiry', () => {
    const l = list();
    const now = Date.now();
    expect(l.check('粤B12345', 'gate-north', now)).toMatchObject({ allowed: true });
    expect(l.check('粤B12345', 'gate-east', now)).toMatchObject({ allowed: false, reason: 'lane-not-allowed' });
    expect(l.check('粤BD12345', 'any', now)).toMatchObject({ allowed: true, entry: { source: 'config' } });
    expect(l.check('粤A00001', 'any', now)).toEqual({ allowed: false, reason: 'not-listed' });
    expect(l.upsert([{ plate: '粤A00001', until: '2020-01-01' }])).toMatchObject({ ok: true });
    expect(l.check('粤A00001', 'any', now)).toMatchObject({ allowed: false, reason: 'expired' });
  });

  it('never lets an older version overwrite a newer one, and keeps the list across restarts', async () => {
    const l = list();
    expect(l.replace([{ plate: '粤A11111' }, { plate: '粤a22222' }], 5)).toEqual({ ok: true, version: 5, count: 2 });
    expect(l.replace([{ plate: '粤A99999' }], 4)).toEqual({ ok: false, error: 'stale-version', message: "version 4 is older than the list's version 5" });
    expect(l.upsert([{ plate: '粤A99999' }], 3)).toMatchObject({ ok: false, error: 'stale-version' });
    expect(l.remove(['粤A11111'], 4)).toMatchObject({ ok: false, error: 'stale-version' });
    expect(l.check('粤A99999', 'x', Date.now()).allowed).toBe(false);
    expect(l.upsert([{ plate: '粤A33333', lanes: ['gate-north'] }], 6)).toEqual({ ok: true, version: 6, count: 1 });
    expect(l.remove(['粤A11111'])).toEqual({ ok: true, version: 6, count: 1 });
    expect(l.replace([{ plate: '粤A44444' }], 6)).toMatchObject({ ok: true }); // the same version again is no older
    await l.flush();

    const file = JSON.parse(readFileSync(join(dir, 'plates.json'), 'utf8'));
    expect(file).toMatchObject({ version: 6, plates: [{ plate: '粤A44444' }] });
    const again = list();
    expect(again.version).toBe(6);
    expect(again.check('粤A44444', 'x', Date.now()).allowed).toBe(true);
    expect(again.check('粤A22222', 'x', Date.now()).allowed).toBe(false);
    expect(again.list().map((e) => [e.plate, e.source])).toEqual([
      ['粤B12345', 'config'],
      ['粤BD12345', 'config'],
      ['粤A44444', 'upstream'],
    ]);
  });

  it('refuses bad entries with the path of what was wrong, changing nothing', () => {
    const l = list();
    expect(l.upsert([{ plate: '粤A11111' }, { plate: '粤A2', lanes: 'x' }])).toEqual({
      ok: false,
      error: 'invalid',
      message: 'plates[1].lanes: Invalid input: expected array, received string',
    });
    expect(l.upsert([{ plate: 'unknown' }])).toMatchObject({ ok: false, message: 'plates[0].plate: expected a plate number, got "unknown"' });
    expect(l.upsert('nope')).toMatchObject({ ok: false, error: 'invalid' });
    expect(l.replace([], -1)).toMatchObject({ ok: false, message: 'version: expected a non-negative integer' });
    expect(l.replace([], 'x')).toMatchObject({ ok: false, error: 'invalid' });
    expect(l.remove([42])).toMatchObject({ ok: false, message: 'plates[0]: expected a plate number' });
    expect(l.check('粤A11111', 'x', Date.now()).allowed).toBe(false);
  });

  it('moves a corrupt plates.json aside and still applies the config list', () => {
    writeFileSync(join(dir, 'plates.json'), '{"version": 1, "plates": [');
    const l = new PlateList([{ plate: '粤B12345' }], dir, systemClock, silentLog);
    expect(l.load()).toMatchObject({ movedTo: expect.stringContaining('plates.json.corrupt-') });
    expect(l.check('粤B12345', 'x', Date.now()).allowed).toBe(true);
    expect(readdirSync(dir).some((f) => f.startsWith('plates.json.corrupt-'))).toBe(true);
  });
});

describe('decisions', () => {
  const cam = (direction: 'in' | 'out', extra: Partial<LprCameraConfig> = {}): LprCameraConfig => ({
    id: `cam-${direction}`,
    type: 'lpr-camera',
    vendor: 'generic',
    direction,
    lane: 'gate',
    allowFrom: ['127.0.0.1'],
    minConfidence: 80,
    repeatWindowSec: 10,
    ...extra,
  });
  const decided: Array<[PendingDecision, PendingOutcome]> = [];
  let dir: string;

  const control = (visitors: 'deny' | 'record' | 'ask', tariff = { freeMinutes: 30, perHourCents: 500, dailyCapCents: 5000 }) => {
    const config = siteConfig({
      devices: [
        { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 1 } },
        { ...cam('in'), type: 'lpr-camera' },
        { ...cam('out'), type: 'lpr-camera' },
      ],
      io: [{ id: 'sim', type: 'sim' }],
      access: { visitors, plates: [{ plate: '粤B12345' }], tariff },
    });
    const ac = new AccessControl({
      config,
      dataDir: dir,
      clock: systemClock,
      log: silentLog,
      onPendingDecided: (p, o) => void decided.push([p, o]),
    });
    ac.load();
    return ac;
  };
  const read = (direction: 'in' | 'out', plate: string | null, confidence = 95): Read => ({ camera: cam(direction), plate, confidence });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eg-access-'));
    decided.length = 0;
    // 23:10 local time: stays cross midnight
    vi.useFakeTimers({ now: new Date(2026, 10, 22, 23, 10, 0) });
  });
  afterEach(() => void vi.useRealTimers());

  it('grants residents, records visitors, and pairs exits with entries across midnight', () => {
    const ac = control('record');
    expect(ac.decide(read('in', '粤B12345'))).toEqual({ decision: 'granted', reason: 'resident', visitor: false, class: 'owner' });
    expect(ac.decide(read('in', '粤A77777'))).toEqual({ decision: 'granted', reason: 'visitor', visitor: true, class: 'temporary' });
    vi.advanceTimersByTime((2 * 60 + 5) * 60_000); // 01:15 the next day
    expect(ac.decide(read('out', '粤A77777'))).toEqual({
      decision: 'granted',
      reason: 'exit',
      visitor: true,
      class: 'temporary',
      durationSec: 7500,
      feeCents: 1500,
    });
    expect(ac.decide(read('out', '粤B12345'))).toEqual({ decision: 'granted', reason: 'exit', visitor: false, class: 'owner', durationSec: 7500, feeCents: 0 });
    // a second exit of the same car has no entry to pair with
    expect(ac.decide(read('out', '粤A77777'))).toEqual({ decision: 'granted', reason: 'exit-no-entry', visitor: true, class: 'temporary', neverEntered: true });
  });

  it('charges multi-day stays per 24 hours from entry', () => {
    const ac = control('record');
    ac.decide(read('in', '粤A77777'));
    vi.advanceTimersByTime((3 * 24 * 60 + 61) * 60_000); // three days, one hour and a minute
    expect(ac.decide(read('out', '粤A77777'))).toMatchObject({ durationSec: (3 * 24 * 60 + 61) * 60, feeCents: 3 * 5000 + 1000 });
  });

  it('denies unread plates and low confidence, whatever the list says', () => {
    const ac = control('record');
    expect(ac.decide(read('in', null, 0))).toEqual({ decision: 'denied', reason: 'no-plate', visitor: false, class: 'temporary' });
    expect(ac.decide(read('in', '粤B12345', 79))).toEqual({ decision: 'denied', reason: 'low-confidence', visitor: false, class: 'owner' });
  });

  it('denies visitors under deny', () => {
    const ac = control('deny');
    expect(ac.decide(read('in', '粤A77777'))).toEqual({ decision: 'denied', reason: 'visitor', visitor: true, class: 'temporary' });
    expect(ac.decide(read('in', '粤B12345')).decision).toBe('granted');
  });

  it('holds visitors under ask until staff decide, or denies them after askTimeoutSec', () => {
    const ac = control('ask');
    const r = read('in', '粤A77777');
    const v = ac.decide(r);
    expect(v).toEqual({ decision: 'pending', reason: 'visitor', visitor: true, class: 'temporary' });
    const first = ac.hold(r, v);
    const second = ac.hold(read('in', '粤A88888'), v);
    expect(ac.waiting().map((p) => p.plate)).toEqual(['粤A77777', '粤A88888']);
    expect(ac.settle(first.id, { decision: 'granted', by: 'console', user: 'guard1' })).toMatchObject({ plate: '粤A77777' });
    expect(ac.settle(first.id, { decision: 'granted', by: 'console' })).toBeUndefined(); // decided once
    vi.advanceTimersByTime(120_000);
    expect(decided.map(([p, o]) => [p.id, o.decision, o.by])).toEqual([
      [first.id, 'granted', 'console'],
      [second.id, 'denied', 'timeout'],
    ]);
    expect(ac.waiting()).toEqual([]);
    // the granted visitor's stay started when staff let them in
    expect(ac.openStays().map((s) => s.plate)).toEqual(['粤A77777']);
  });

  it('under ask, holds a visitor who owes a fee at the exit for staff to collect it', () => {
    const ac = control('ask');
    const r = read('in', '粤A77777');
    ac.settle(ac.hold(r, ac.decide(r)).id, { decision: 'granted', by: 'remote' });
    vi.advanceTimersByTime(3 * 3600_000);
    const exit = read('out', '粤A77777');
    const v = ac.decide(exit);
    expect(v).toEqual({ decision: 'pending', reason: 'fee-due', visitor: true, class: 'temporary', durationSec: 10800, feeCents: 1500 });
    const p = ac.hold(exit, v);
    expect(p).toMatchObject({ direction: 'out', feeCents: 1500 });
    ac.settle(p.id, { decision: 'granted', by: 'console' });
    expect(ac.openStays()).toEqual([]);
  });

  it('keeps open stays across a restart, in a file only its owner reads', async () => {
    const ac = control('record');
    ac.decide(read('in', '粤A77777'));
    await ac.stop();
    expect(statSync(join(dir, 'stays.json')).mode & 0o777).toBe(0o600);
    vi.advanceTimersByTime(3600_000);
    const after = control('record');
    expect(after.decide(read('out', '粤A77777'))).toMatchObject({ reason: 'exit', durationSec: 3600, feeCents: 500 });
  });

  it('forgets stays older than 30 days', async () => {
    const ac = control('record');
    ac.decide(read('in', '粤A77777'));
    await ac.stop();
    vi.advanceTimersByTime(31 * 86_400_000);
    const after = control('record');
    expect(after.openStays()).toEqual([]);
    await after.flush();
    expect(existsSync(join(dir, 'stays.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'stays.json'), 'utf8'))).toEqual({ stays: [] });
  });
});
