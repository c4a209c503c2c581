import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../schema/units.js';
import { topicPrefix, validateConfig, validateYaml } from '../config/load.js';
import { schemaText } from '../config/write-schema.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The contract's example site file: a copy here, and the original beside the repository when it is there (docs/development.md). */
const EXAMPLE = here('./fixtures/contract/site.example.yaml');
const CONTRACT_EXAMPLE = here('../../shared/contract/site.example.yaml');

/** Every device kind once, on every board kind: the shape of the contract's example. */
function base(): Record<string, any> {
  return {
    site: { id: 'music-square', name: '音乐广场小区' },
    gateway: { id: 'gw-north', dataDir: './data' },
    upstream: { mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: 'estate/music-square/gw-north' } },
    storage: { maxBytes: '1GB', keepForwardedDays: 7 },
    console: { listen: '127.0.0.1:8080' },
    io: [
      { id: 'pi', type: 'gpio' },
      { id: 'uno', type: 'firmata', port: '/dev/ttyACM0' },
      { id: 'relays', type: 'modbus-relay', bus: 'rs485-1', unit: 9, channels: 8 },
      { id: 'sim', type: 'sim' },
    ],
    buses: [
      { id: 'rs485-1', type: 'rtu', port: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', stopBits: 1 },
      { id: 'plant', type: 'tcp', host: '127.0.0.1', port: 5020 },
    ],
    devices: [
      {
        id: 'door-b1',
        type: 'door',
        lock: { io: 'pi', pin: 17 },
        lockType: 'fail-secure',
        contact: { io: 'pi', pin: 27 },
        exitButton: { io: 'pi', pin: 22 },
        unlockMs: 5000,
        heldOpenMs: 30000,
      },
      { id: 'door-lobby', type: 'door', lock: { io: 'uno', pin: 7 }, lockType: 'fail-safe', unlockMs: 3000 },
      { id: 'gate-north', type: 'barrier', open: { io: 'pi', pin: 5 }, close: { io: 'pi', pin: 6 }, safetyLoop: { io: 'pi', pin: 13 }, pulseMs: 500 },
      {
        id: 'bollard-east',
        type: 'bollard',
        lower: { io: 'relays', pin: 1 },
        raise: { io: 'relays', pin: 2 },
        safetyLoop: { io: 'relays', pin: 3 },
        downLimit: { io: 'relays', pin: 4 },
        upLimit: { io: 'relays', pin: 5 },
        travelMs: 6000,
      },
      {
        id: 'cam-north-in',
        type: 'lpr-camera',
        vendor: 'hikvision',
        direction: 'in',
        lane: 'gate-north',
        allowFrom: ['192.168.1.64'],
        trigger: { io: 'pi', pin: 19 },
      },
      { id: 'cam-east-in', type: 'lpr-camera', vendor: 'dahua', direction: 'in', lane: 'bollard-east', allowFrom: ['192.168.1.66'] },
      { id: 'meter-b1', type: 'meter', model: 'sdm630', bus: 'rs485-1', unit: 1, intervalSec: 60 },
      { id: 'meter-pump', type: 'meter', model: 'dtsu666', bus: 'plant', unit: 2, intervalSec: 30 },
      { id: 'fence-1', type: 'alarm-input', kind: 'perimeter', input: { io: 'sim', pin: 1 } },
    ],
    fireAlarm: { input: { io: 'pi', pin: 26 } },
    access: {
      plates: [{ plate: '粤B12345', lanes: ['gate-north'], until: '2027-12-31' }, { plate: '粤BD12345' }],
      visitors: 'record',
      tariff: { freeMinutes: 30, perHourCents: 500, dailyCapCents: 5000 },
    },
  };
}

function problemsOf(mutate: (c: Record<string, any>) => void): string[] {
  const config = base();
  mutate(config);
  const result = validateConfig(config);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('valid configurations', () => {
  it('the base site used by these tests is valid', () => {
    expect(validateConfig(base())).toMatchObject({ ok: true });
  });

  it("the contract's example site file validates as it is", () => {
    const result = validateYaml(readFileSync(EXAMPLE, 'utf8'));
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.runIf(existsSync(CONTRACT_EXAMPLE))("the copy of the contract's example is the contract's own", () => {
    expect(readFileSync(EXAMPLE).equals(readFileSync(CONTRACT_EXAMPLE))).toBe(true);
  });

  it('the demo site validates', () => {
    expect(validateYaml(readFileSync(here('../config/examples/demo.yaml'), 'utf8'))).toMatchObject({ ok: true });
  });

  it('fills in the documented defaults', () => {
    const result = validateConfig({ site: { id: 's' }, gateway: { id: 'g' } });
    expect(result.ok && result.config).toMatchObject({
      gateway: { dataDir: '/var/lib/estate-gateway' },
      storage: { maxBytes: 1_000_000_000, keepForwardedDays: 7 },
      console: { listen: '0.0.0.0:8080' },
      io: [],
      devices: [],
      access: { plates: [], visitors: 'record', askTimeoutSec: 120 },
    });
  });

  it('reads sizes as installers write them', () => {
    expect(parseSize('1GB')).toBe(1_000_000_000);
    expect(parseSize('500 MB')).toBe(500_000_000);
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5kb')).toBe(1500);
    expect(parseSize('12')).toBe(12);
    expect(parseSize('1 GBs')).toBeUndefined();
  });
});

// Each invalid configuration, the exact line the installer sees for it.
const INVALID: Array<[string, (c: Record<string, any>) => void, string]> = [
  ['a pin that is not a number', (c) => (c.devices[2].open.pin = '17a'), 'devices[2].open.pin: expected an integer 0-27, got "17a"'],
  ['a GPIO pin off the header', (c) => (c.devices[0].lock.pin = 28), 'devices[0].lock.pin: expected an integer 0-27, got 28'],
  ['a relay channel beyond the board', (c) => (c.devices[3].upLimit.pin = 9), 'devices[3].upLimit.pin: expected an integer 1-8, got 9'],
  ['a relay channel 0', (c) => (c.devices[3].lower.pin = 0), 'devices[3].lower.pin: expected an integer 1-8, got 0'],
  ['a Firmata pin beyond a Mega', (c) => (c.devices[1].lock.pin = 70), 'devices[1].lock.pin: expected an integer 0-69, got 70'],
  ['a negative pin on a sim board', (c) => (c.devices[8].input.pin = -1), 'devices[8].input.pin: expected an integer 0-255, got -1'],
  ['an unknown key (typo)', (c) => (c.devices[0].unlokMs = 3000), 'devices[0].unlokMs: unknown key; did you mean "unlockMs"?'],
  ['an unknown top-level key', (c) => (c.gatway = {}), 'gatway: unknown key; did you mean "gateway"?'],
  ['an unknown key in a pin reference', (c) => (c.devices[0].lock.invert = true), 'devices[0].lock.invert: unknown key'],
  [
    'an unknown device type',
    (c) => (c.devices[2].type = 'gate'),
    'devices[2].type: expected one of door|barrier|bollard|lpr-camera|meter|alarm-input|reader|access-terminal, got "gate"',
  ],
  [
    'a device without a type',
    (c) => delete c.devices[2].type,
    'devices[2].type: required (one of door|barrier|bollard|lpr-camera|meter|alarm-input|reader|access-terminal)',
  ],
  [
    'a misspelt lock type',
    (c) => (c.devices[1].lockType = 'failsafe'),
    'devices[1].lockType: expected one of fail-secure|fail-safe, got "failsafe"; did you mean "fail-safe"?',
  ],
  ['a door without a lock', (c) => delete c.devices[0].lock, 'devices[0].lock: required'],
  ['an unlock time too short to walk through', (c) => (c.devices[0].unlockMs = 50), 'devices[0].unlockMs: expected an integer 200-255000 (ms), got 50'],
  ['an id with capitals', (c) => (c.devices[0].id = 'Door-B1'), 'devices[0].id: expected an id matching ^[a-z0-9][a-z0-9-]*$, got "Door-B1"'],
  ['two devices with one id', (c) => (c.devices[1].id = 'door-b1'), 'devices[1].id: duplicate id "door-b1" (also devices[0])'],
  [
    'two boards with one id',
    (c) => (c.io[3].id = 'pi'),
    'io[3].id: duplicate id "pi" (also io[0])\ndevices[8].input.io: no io board "sim" (known: pi, uno, relays)',
  ],
  [
    'a pin on a board that does not exist',
    (c) => (c.devices[0].contact.io = 'pi2'),
    'devices[0].contact.io: no io board "pi2" (known: pi, uno, relays, sim; did you mean "pi"?)',
  ],
  [
    'two devices driving one output',
    (c) => (c.devices[4].trigger.pin = 17),
    'devices[4].trigger.pin: output pi:17 (cam-north-in) is already driven by devices[0].lock (door-b1)',
  ],
  [
    'one device driving one output twice',
    (c) => (c.devices[2].close.pin = 5),
    'devices[2].close.pin: output pi:5 (gate-north) is already driven by devices[2].open (gate-north)',
  ],
  [
    'an input wired to an output pin',
    (c) => (c.devices[2].safetyLoop.pin = 17),
    'devices[2].safetyLoop.pin: pi:17 (gate-north) is an output driven by devices[0].lock (door-b1); it cannot also be an input',
  ],
  ['a camera whose lane does not exist', (c) => (c.devices[4].lane = 'gate-south'), 'devices[4].lane: no device "gate-south"; did you mean "gate-north"?'],
  ['a camera whose lane is a door', (c) => (c.devices[4].lane = 'door-b1'), 'devices[4].lane: "door-b1" is a door; a lane must be a barrier or bollard'],
  [
    'a camera with a malformed address',
    (c) => (c.devices[5].allowFrom = ['192.168.1.300']),
    'devices[5].allowFrom[0]: expected an IP address or CIDR block such as 192.168.1.64 or 192.168.1.0/24, got "192.168.1.300"',
  ],
  [
    'a camera allowed from nowhere',
    (c) => (c.devices[5].allowFrom = []),
    'devices[5].allowFrom: expected at least one address the camera pushes from, got a list',
  ],
  [
    'a meter on a bus that does not exist',
    (c) => (c.devices[6].bus = 'rs485-2'),
    'devices[6].bus: no bus "rs485-2" (known: rs485-1, plant; did you mean "rs485-1"?)',
  ],
  ['two units with one address on a bus', (c) => (c.devices[6].unit = 9), 'devices[6].unit: unit 9 on bus rs485-1 is already used by io[2]'],
  ['a Modbus unit out of range', (c) => (c.devices[7].unit = 248), 'devices[7].unit: expected an integer 1-247 (Modbus unit id), got 248'],
  [
    'an unknown meter model',
    (c) => (c.devices[6].model = 'sdm230'),
    'devices[6].model: expected one of sdm120|sdm630|ddsu666|dtsu666|custom|dlt645, got "sdm230"',
  ],
  ['a custom meter without registers', (c) => (c.devices[6].model = 'custom'), 'devices[6].registers: required for model custom'],
  [
    'a relay board on a bus that does not exist',
    (c) => (c.io[2].bus = 'rs485-9'),
    'io[2].bus: no bus "rs485-9" (known: rs485-1, plant; did you mean "rs485-1"?)',
  ],
  ['a serial port used twice', (c) => (c.io[1].port = '/dev/ttyUSB0'), 'io[1].port: serial port /dev/ttyUSB0 is already used by buses[0]'],
  [
    'a baud rate no meter speaks',
    (c) => (c.buses[0].baudRate = 9601),
    'buses[0].baudRate: expected one of 1200|2400|4800|9600|19200|38400|57600|115200, got 9601',
  ],
  ['an unknown alarm kind', (c) => (c.devices[8].kind = 'fire'), 'devices[8].kind: expected one of perimeter|smoke|gas|water|panic, got "fire"'],
  ['an unknown visitor policy', (c) => (c.access.visitors = 'allow'), 'access.visitors: expected one of deny|record|ask, got "allow"'],
  ['a plate on a lane that does not exist', (c) => (c.access.plates[0].lanes = ['gate-west']), 'access.plates[0].lanes[0]: no barrier or bollard "gate-west"'],
  [
    'a plate valid until a non-date',
    (c) => (c.access.plates[0].until = '2027-13-45'),
    'access.plates[0].until: expected a real calendar date, got "2027-13-45"',
  ],
  ['the same plate twice', (c) => (c.access.plates[1].plate = '粤B 12345'), 'access.plates[1].plate: duplicate plate (also access.plates[0])'],
  [
    'a storage budget in unknown units',
    (c) => (c.storage.maxBytes = '1 gigabyte'),
    'storage.maxBytes: expected a size such as 1GB, 500MB or a number of bytes, got "1 gigabyte"',
  ],
  [
    'a broker URL with a bad scheme',
    (c) => (c.upstream.mqtt.url = 'http://broker'),
    'upstream.mqtt.url: expected a broker URL such as mqtt://host:1883 or mqtts://host:8883, got "http://broker"',
  ],
  ['a broker with neither url nor urls', (c) => delete c.upstream.mqtt.url, 'upstream.mqtt.url: required (give url or urls)'],
  [
    'TLS checks switched off with a string',
    (c) => (c.upstream.mqtt.tls = { rejectUnauthorized: 'no' }),
    'upstream.mqtt.tls.rejectUnauthorized: expected true or false, got "no"',
  ],
  ['a console address without a port', (c) => (c.console.listen = 'localhost'), 'console.listen: expected host:port such as 0.0.0.0:8080, got "localhost"'],
  [
    'the fire alarm on a board that does not exist',
    (c) => (c.fireAlarm.input.io = 'panel'),
    'fireAlarm.input.io: no io board "panel" (known: pi, uno, relays, sim)',
  ],
  ['a missing site', (c) => delete c.site, 'site: required'],
  ['devices written as a mapping', (c) => (c.devices = { door: {} }), 'devices: expected a list, got a mapping'],
  ['debounce on an output', (c) => (c.devices[0].lock.debounceMs = 20), 'devices[0].lock.debounceMs: debounceMs applies to inputs only'],
];

describe('invalid configurations name the exact path and value', () => {
  it(`has at least 25 distinct cases (${INVALID.length})`, () => {
    expect(new Set(INVALID.map(([, , line]) => line.split(':')[0])).size).toBeGreaterThanOrEqual(25);
  });
  it.each(INVALID)('%s', (_name, mutate, line) => {
    expect(problemsOf(mutate)).toEqual(line.split('\n'));
  });

  it('reports every problem at once, not only the first', () => {
    const lines = problemsOf((c) => {
      c.devices[0].lock.pin = 'x';
      c.devices[1].lockType = 'maglock';
      c.buses[1].port = 0;
    });
    expect(lines).toEqual([
      'buses[1].port: expected an integer 1-65535, got 0',
      'devices[0].lock.pin: expected an integer 0-27, got "x"',
      'devices[1].lockType: expected one of fail-secure|fail-safe, got "maglock"',
    ]);
  });

  it('a sim script may only move inputs some device reads', () => {
    const lines = problemsOf((c) => (c.io[3].script = { steps: [{ at: 100, pin: 2, value: 1 }] }));
    expect(lines).toEqual(['io[3].script.steps[0].pin: pin 2 of sim is not an input of any device']);
  });
});

describe('fleet topics', () => {
  const base = (topic?: string, tenant?: string) => ({
    site: { id: 'music-square', ...(tenant ? { tenant } : {}) },
    gateway: { id: 'gw-north' },
    upstream: { mqtt: { url: 'mqtt://127.0.0.1:1883', ...(topic ? { topicPrefix: topic } : {}) } },
  });
  it('the prefix is a template over tenant, site and gateway; the default is estate/{site}/{gateway}', () => {
    const fleet = validateConfig(base('fleet/{tenant}/{site}/{gateway}', 'acme-property'));
    expect(fleet.ok && topicPrefix(fleet.config)).toBe('fleet/acme-property/music-square/gw-north');
    const dotted = validateConfig(base('x/{site.id}/{gateway.id}'));
    expect(dotted.ok && topicPrefix(dotted.config)).toBe('x/music-square/gw-north');
    const plain = validateConfig(base());
    expect(plain.ok && topicPrefix(plain.config)).toBe('estate/music-square/gw-north');
  });
  it('an unknown placeholder, or {tenant} without a tenant, is a problem at the prefix', () => {
    expect(validateConfig(base('fleet/{tenant}/{gateway}'))).toEqual({
      ok: false,
      problems: [{ path: 'upstream.mqtt.topicPrefix', message: '{tenant} needs site.tenant to be set' }],
    });
    expect(validateConfig(base('fleet/{sites}/{gateway}'))).toEqual({
      ok: false,
      problems: [{ path: 'upstream.mqtt.topicPrefix', message: 'unknown placeholder {sites} (known: {tenant}, {site}, {site.id}, {gateway}, {gateway.id})' }],
    });
  });
});

describe('YAML', () => {
  it('reports syntax errors with line and column', () => {
    const result = validateYaml('site: { id: a\ngateway: { id: b }\n');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]!.path).toMatch(/^line \d+, column \d+$/);
  });

  it('refuses duplicate keys, which would silently override each other', () => {
    const result = validateYaml('site: { id: a }\nsite: { id: b }\ngateway: { id: g }\n');
    expect(!result.ok && result.problems[0]!.message).toMatch(/unique/i);
  });

  it('says an empty file is empty', () => {
    expect(validateYaml('')).toEqual({ ok: false, problems: [{ path: '(top level)', message: 'the file is empty; expected a site config' }] });
  });

  it('keeps dates as text (YAML 1.2), so plate expiry dates are not shifted by time zones', () => {
    const result = validateYaml('site: { id: a }\ngateway: { id: b }\naccess: { plates: [{ plate: "粤B12345", until: 2027-12-31 }] }\n');
    expect(result.ok && result.config.access.plates[0]!.until).toBe('2027-12-31');
  });
});

describe('config/schema.json', () => {
  it('is what the schema generates (run `npm run schema` after changing config/*.ts)', () => {
    expect(readFileSync(here('../config/schema.json'), 'utf8')).toBe(schemaText());
  });

  it('forbids unknown keys and knows every device type, for editors', () => {
    const schema = JSON.parse(schemaText());
    expect(schema.additionalProperties).toBe(false);
    const types = schema.properties.devices.items.oneOf.map((d: any) => d.properties.type.const);
    expect(types).toEqual(['door', 'barrier', 'bollard', 'lpr-camera', 'meter', 'alarm-input', 'reader', 'access-terminal']);
  });
});
