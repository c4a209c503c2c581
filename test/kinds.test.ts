/**
 * Every device kind provides every capability (devices/kind.ts), and what it declares is true of
 * its devices: a site with every kind runs, each device's state is one its kind lists and has a
 * word in both languages, a kind with a health group fills it, a kind that receives pushes is a
 * push source, its doctor checks name each of its devices, its card's fields are in its
 * snapshots and its card's words and vocabularies exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { T } from '../console/i18n.js';
import { EVENT_TYPES } from '../core/events.js';
import type { DoctorContext, Kind } from '../devices/kind.js';
import { KINDS } from '../devices/kinds.js';
import { isPushSource } from '../devices/push.js';
import { systemClock } from '../core/clock.js';
import type { Harness } from './helpers.js';
import { silentLog, startGateway } from './helpers.js';
import { freePort } from './peers/modbus.js';

const CAPABILITIES = ['schema', 'pins', 'lane', 'door', 'references', 'states', 'events', 'words', 'card', 'health', 'doctor', 'push', 'load'] as const;
const kinds = Object.entries(KINDS as Record<string, Kind>);
const pin = (n: number) => ({ io: 'sim', pin: n });

let h: Harness;
beforeAll(async () => {
  // one device of every kind (two readers: one at a door, one at a lane); the meter's bus and the
  // readers' ports lead nowhere, which faults only them; the lanes have screens (through a camera,
  // and on a serial port that leads nowhere)
  const port = await freePort();
  h = await startGateway({
    buses: [{ id: 'bus', type: 'tcp', host: '127.0.0.1', port }],
    devices: [
      { id: 'door', type: 'door', lock: pin(1), lockType: 'fail-secure', contact: pin(2) },
      { id: 'gate', type: 'barrier', open: pin(3), safetyLoop: pin(4), display: { camera: 'cam-out' } },
      { id: 'post', type: 'bollard', lower: pin(5), raise: pin(6), safetyLoop: pin(7), display: { port: '/dev/eg-test-no-such-screen' } },
      { id: 'cam', type: 'lpr-camera', vendor: 'dahua', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
      { id: 'cam-out', type: 'lpr-camera', vendor: 'vzenith', direction: 'out', lane: 'gate', allowFrom: ['127.0.0.1'] },
      { id: 'meter', type: 'meter', model: 'sdm120', bus: 'bus', unit: 1 },
      { id: 'smoke', type: 'alarm-input', kind: 'smoke', input: pin(8) },
      { id: 'qr-door', type: 'reader', door: 'door', port: '/dev/eg-test-no-such-reader' },
      { id: 'qr-lane', type: 'reader', lane: 'post', keyboard: '/dev/eg-test-no-such-keyboard' },
      { id: 'face', type: 'access-terminal', vendor: 'hikvision', allowFrom: ['127.0.0.1'] },
    ],
  });
});
afterAll(async () => {
  await h?.gateway.stop();
});

describe('every device kind', () => {
  it('the test site has a device of every kind (so the checks below cover each)', () => {
    expect(new Set(h.config.devices.map((d) => d.type))).toEqual(new Set(Object.keys(KINDS)));
  });

  it.each(kinds)('%s declares every capability, its schema is its own type and its events are known', (type, kind) => {
    for (const key of CAPABILITIES) expect(kind[key], `${type}.${key}`).not.toBeUndefined();
    expect((kind.schema as unknown as { shape: { type: { value: string } } }).shape.type.value).toBe(type);
    for (const ev of kind.events) expect(EVENT_TYPES).toContain(ev);
    expect(kind.states.length).toBeGreaterThan(0);
  });

  it.each(kinds)('%s has its words in both languages: a name, every state, both buttons or none, every label its card uses', (type, kind) => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const words = kind.words[lang];
      expect(words.name, `${type} ${lang} name`).toMatch(/\S/);
      for (const state of kind.states) expect(words.states[state], `${type} ${lang} state ${state}`).toMatch(/\S/);
      expect(Object.keys(words.states).sort()).toEqual([...kind.states].sort());
      if (words.actions) expect([words.actions.open, words.actions.close].every((w) => /\S/.test(w))).toBe(true);
      expect(Boolean(words.actions)).toBe(Boolean(kind.words['zh-CN'].actions));
      // every pin role its devices can have, as the I/O page names it
      const sample = h.config.devices.find((d) => d.type === type)!;
      for (const role of kind.pins(sample)) expect(words.roles?.[role.role], `${type} ${lang} role ${role.role}`).toMatch(/\S/);
      for (const part of kind.card) {
        if ('label' in part) expect(words.labels?.[part.label], `${type} ${lang} label ${part.label}`).toMatch(/\S/);
        if ('group' in part) expect(typeof T[lang][part.group], `${type} card group ${part.group}`).toBe('object');
      }
    }
  });

  it.each(kinds)('%s: its devices show only its states, fill its health group, push when it says so, and have its card fields', (type, kind) => {
    const devices = [...h.gateway.devices.values()].filter((d) => d.type === type);
    expect(devices.length).toBeGreaterThan(0);
    const fields = new Set<string>();
    for (const device of devices) {
      const snap = device.snapshot();
      expect(kind.states).toContain(snap.state);
      for (const key of Object.keys(snap)) fields.add(key);
      expect(typeof device.health === 'function', `${device.id} health()`).toBe(kind.health !== null);
      expect(isPushSource(device), `${device.id} a push source`).toBe(kind.push !== null);
      if (kind.health)
        expect((h.gateway.health()[kind.health.group] as Record<string, unknown>)[device.id], `${device.id} in health.${kind.health.group}`).toEqual(
          device.health!(),
        );
    }
    for (const part of kind.card) expect([...fields], `${type} card field ${part.field}`).toContain(part.field);
  });

  it.each(kinds.filter(([, k]) => k.doctor))('%s: its doctor checks name each of its devices, with the gateway running and without', async (type, kind) => {
    const configs = h.config.devices.filter((d) => d.type === type);
    for (const health of [h.gateway.health(), undefined]) {
      const ctx: DoctorContext = {
        health,
        port: 8080,
        busConfigs: h.config.buses,
        buses: h.gateway.buses,
        passKey: false,
        timeoutMs: 200,
        clock: systemClock,
        log: silentLog,
      };
      const checks = await kind.doctor!(configs, ctx);
      for (const d of configs) expect(checks.map((c) => c.name).join('\n'), `${type} doctor, ${health ? 'running' : 'not running'}`).toContain(d.id);
      for (const c of checks) expect(['ok', 'FAIL', 'warn', 'skip']).toContain(c.result);
    }
  });

  it('health lists the groups the contract always had, also for a site without such devices', async () => {
    const bare = await startGateway({ devices: [{ id: 'door', type: 'door', lock: pin(1), lockType: 'fail-secure' }] });
    try {
      const health = bare.gateway.health();
      expect(health['cameras']).toEqual({});
      expect(health['meters']).toEqual({});
      expect(health['readers']).toBeUndefined();
      expect(health['terminals']).toBeUndefined();
    } finally {
      await bare.gateway.stop();
    }
  });
});
