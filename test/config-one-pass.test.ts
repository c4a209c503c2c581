/**
 * The site file as an installer meets it: every relative path taken beside the file, every
 * problem reported in one pass (an output driven twice with the other problems, a suggestion for
 * a value in the wrong case), and docs/configuration.md's reference of every key up to date.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configFromText, validateConfig } from '../config/load.js';

describe('paths in the site file', () => {
  it('every path setting written relative is taken relative to the site file, not the working directory', () => {
    const text = `site: { id: s }
gateway: { id: g, dataDir: ./data }
upstream:
  mqtt:
    url: mqtts://broker:8883
    username: gw
    passwordFile: ./secrets/broker.pass
    commandKey: secrets/command.key
    tls: { ca: ./tls/ca.crt, cert: ./tls/gw.crt, key: ../keys/gw.key }
upgrade: { publicKey: ./keys/fleet.pub, ca: ./tls/releases-ca.crt }
access: { passes: { publicKey: ./keys/passes.pub } }
io: [{ id: sim, type: sim, traceFile: ./trace.jsonl }]
`;
    const result = configFromText(text, '/etc/estate-gateway/site.yaml');
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const c = result.config;
    const m = c.upstream!.mqtt;
    expect({
      dataDir: c.gateway.dataDir,
      passwordFile: m.passwordFile,
      commandKey: m.commandKey,
      tls: m.tls,
      upgrade: c.upgrade,
      passes: c.access.passes?.publicKey,
      trace: c.io[0]!.type === 'sim' ? c.io[0]!.traceFile : undefined,
    }).toEqual({
      dataDir: '/etc/estate-gateway/data',
      passwordFile: '/etc/estate-gateway/secrets/broker.pass',
      commandKey: '/etc/estate-gateway/secrets/command.key',
      tls: { ca: '/etc/estate-gateway/tls/ca.crt', cert: '/etc/estate-gateway/tls/gw.crt', key: '/etc/keys/gw.key', rejectUnauthorized: true },
      upgrade: { publicKey: '/etc/estate-gateway/keys/fleet.pub', ca: '/etc/estate-gateway/tls/releases-ca.crt' },
      passes: '/etc/estate-gateway/keys/passes.pub',
      trace: '/etc/estate-gateway/trace.jsonl',
    });
    // absolute paths are kept as written
    const abs = configFromText(text.replace('./keys/passes.pub', '/srv/keys/passes.pub'), '/etc/estate-gateway/site.yaml');
    expect(abs.ok && abs.config.access.passes?.publicKey).toBe('/srv/keys/passes.pub');
  });
});

describe('validate in one pass', () => {
  const problems = (raw: unknown) => {
    const r = validateConfig(raw);
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };
  it('reports an output driven twice together with the other problems of the entries that drive it', () => {
    expect(
      problems({
        site: { id: 's' },
        gateway: { id: 'g' },
        io: [{ id: 'sim', type: 'sim' }],
        devices: [
          { id: 'lobby', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'Fail-Secure' },
          { id: 'b1', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-safe', unlokMs: 3000 },
        ],
      }),
    ).toEqual([
      'devices[0].lockType: expected one of fail-secure|fail-safe, got "Fail-Secure"; did you mean "fail-secure"?',
      'devices[1].unlokMs: unknown key; did you mean "unlockMs"?',
      'devices[1].lock.pin: output sim:1 (b1) is already driven by devices[0].lock (lobby)',
    ]);
  });

  it('suggests the word meant for a value of a list written in the wrong case or misspelt', () => {
    const base = { site: { id: 's' }, gateway: { id: 'g' }, buses: [{ id: 'b', type: 'tcp', host: 'h' }] };
    expect(problems({ ...base, devices: [{ id: 'm', type: 'meter', model: 'SDM630', bus: 'b', unit: 1 }] })).toEqual([
      'devices[0].model: expected one of sdm120|sdm630|ddsu666|dtsu666|custom|dlt645, got "SDM630"; did you mean "sdm630"?',
    ]);
    // another number is another model, never a typo to correct
    expect(problems({ ...base, devices: [{ id: 'm', type: 'meter', model: 'sdm230', bus: 'b', unit: 1 }] })[0]).not.toMatch(/did you mean/);
    expect(problems({ ...base, devices: [{ id: 'm', type: 'meter', model: 'abb', bus: 'b', unit: 1 }] })[0]).not.toMatch(/did you mean/);
  });
});

describe('docs/configuration.md', () => {
  it('holds the reference of every key the schema makes now (npm run docs)', async () => {
    const { configurationReference } = await import('../config/reference.js');
    const page = readFileSync(fileURLToPath(new URL('../docs/configuration.md', import.meta.url)), 'utf8');
    const reference = configurationReference();
    expect(page).toContain(reference);
    // every kind and its keys are there: a key added to a kind's schema shows up
    for (const key of [
      '`unlockMs`',
      '`safetyLoop.debounceMs`',
      '`allowFrom`',
      '`registers[].wordOrder`',
      '`access.passes.publicKey`',
      '`upstream.mqtt.tls.ca`',
    ])
      expect(reference).toContain(key);
  });
});
