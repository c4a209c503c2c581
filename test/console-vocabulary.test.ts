/**
 * No raw key on a guard's screen: every code the gateway sends (devices/vocabulary.ts) has a
 * word in both of the console's languages, and the console's script type-checks.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { T, meterValue } from '../console/i18n.js';
import { VOCABULARY } from '../devices/vocabulary.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the console vocabulary', () => {
  it.each(['zh-CN', 'en'] as const)('%s has a word for every event, decision, reason, actor, fault and refusal', (lang) => {
    const t = T[lang];
    const missing: string[] = [];
    for (const group of [
      'doorContact',
      'doorAlarm',
      'events',
      'decisions',
      'reasons',
      'classes',
      'actors',
      'faults',
      'refusals',
      'loginFailures',
      'alarmKinds',
      'accessRefusals',
      'methods',
    ] as const) {
      for (const w of VOCABULARY[group]) if (typeof t[group]?.[w] !== 'string') missing.push(`${group}.${w}`);
    }
    expect(missing).toEqual([]);
    // and no translation is the raw key itself
    for (const w of VOCABULARY.events) expect(t.events[w]).not.toBe(w);
  });

  it('meter values read with their unit and sensible rounding', () => {
    expect(meterValue('en', 'voltageL1V', 228.6068)).toEqual({ label: 'Voltage L1', text: '228.6 V' });
    expect(meterValue('zh-CN', 'voltageL1V', 228.6068)).toEqual({ label: 'A相电压', text: '228.6 V' });
    expect(meterValue('en', 'energyImportKwh', 12345.678)).toEqual({ label: 'Energy in', text: '12345.7 kWh' });
    expect(meterValue('en', 'currentA', 5.5)).toEqual({ label: 'Current', text: '5.50 A' });
    expect(meterValue('zh-CN', 'frequencyHz', 50.012)).toEqual({ label: '频率', text: '50.01 Hz' });
    expect(meterValue('en', 'powerW', 1265.64)).toEqual({ label: 'Power', text: '1266 W' });
    expect(meterValue('en', 'powerFactor', 0.987)).toEqual({ label: 'Power factor', text: '0.99' });
  });

  it("the console's script type-checks (// @ts-check, DOM types)", () => {
    expect(() =>
      execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}console/tsconfig.json`], { stdio: 'pipe' }),
    ).not.toThrow();
  }, 60_000);
});
