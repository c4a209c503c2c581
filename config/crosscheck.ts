/**
 * Rules that span entries: ids unique, references resolve, a camera's lane is a lane, no output
 * pin driven twice, pins within their board's range, one owner per serial port and unit address.
 */
import { checkScreenFit } from '../access/screen-messages.js';
import { isDoorType, isLaneType, kindOf } from '../devices/kinds.js';
import type { ReferenceCheck } from '../devices/kind.js';
import type { Problem } from '../schema/problems.js';
import { describeValue } from '../schema/problems.js';
import { didYouMean } from '../schema/suggest.js';
import { boardPinRange, pinUses } from './pins.js';
import type { PinUse } from './pins.js';
import type { SiteConfig } from './schema.js';
import { TOPIC_PLACEHOLDERS } from './topics.js';

function checkUnique(items: readonly { id: string }[], list: string, problems: Problem[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.id);
    if (first !== undefined) {
      problems.push({ path: `${list}[${i}].id`, message: `duplicate id "${item.id}" (also ${list}[${first}])` });
    } else seen.set(item.id, i);
  });
}

/** Entries by id; with duplicate ids (reported above) the first one counts. */
function firstById<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  // forEach: a partly valid config (validateConfig) has holes where entries did not parse
  items.forEach((item) => void (!map.has(item.id) && map.set(item.id, item)));
  return map;
}

/** `known: a, b` and, when the missing id is a near miss, which one was meant. */
function known(ids: Iterable<string>, missing?: string): string {
  const list = [...ids];
  const hint = missing === undefined ? '' : didYouMean(missing, list);
  return (list.length ? `known: ${list.join(', ')}` : 'none are defined') + hint;
}

/**
 * Entries that exist in the file but did not pass the schema (reported there): references to
 * them are not reported again as missing.
 */
export interface Unchecked {
  io: ReadonlySet<string>;
  buses: ReadonlySet<string>;
  devices: ReadonlySet<string>;
  /** the pins those device entries name, where their pin references themselves are sound: an output driven twice is reported with the entry's own problems */
  pins?: readonly PinUse[];
}

export function crossCheck(config: SiteConfig, unchecked: Unchecked = { io: new Set(), buses: new Set(), devices: new Set() }): Problem[] {
  const problems: Problem[] = [];
  checkUnique(config.io, 'io', problems);
  checkUnique(config.buses, 'buses', problems);
  checkUnique(config.devices, 'devices', problems);

  const boards = firstById(config.io);
  const buses = firstById(config.buses);
  const devices = firstById(config.devices);

  // Pins: the board exists, the pin is on it, an output has one driver, a pin is not both.
  const outputs = new Map<string, string>();
  const inputs = new Map<string, string>();
  const at = (u: PinUse) => Number(/^devices\[(\d+)\]/.exec(u.path)?.[1] ?? Number.MAX_SAFE_INTEGER);
  const uses = [...pinUses(config), ...(unchecked.pins ?? [])].sort((a, b) => at(a) - at(b));
  for (const use of uses) {
    const board = boards.get(use.ref.io);
    if (!board) {
      if (!unchecked.io.has(use.ref.io))
        problems.push({ path: `${use.path}.io`, message: `no io board "${use.ref.io}" (${known(boards.keys(), use.ref.io)})` });
      continue;
    }
    const range = boardPinRange(board);
    if (range && (use.ref.pin < range.min || use.ref.pin > range.max)) {
      problems.push({
        path: `${use.path}.pin`,
        message: `expected an integer ${range.min}-${range.max}, got ${describeValue(use.ref.pin)}`,
      });
      continue;
    }
    if (use.direction === 'out' && use.ref.debounceMs !== undefined) {
      problems.push({ path: `${use.path}.debounceMs`, message: 'debounceMs applies to inputs only' });
    }
    const key = `${use.ref.io}:${use.ref.pin}`;
    // On a Modbus relay board, coils (outputs) and discrete inputs are separate address spaces.
    const separateSpaces = board.type === 'modbus-relay';
    if (use.direction === 'out') {
      const other = outputs.get(key);
      if (other) problems.push({ path: `${use.path}.pin`, message: `output ${key} (${use.owner}) is already driven by ${other}` });
      else outputs.set(key, `${use.path} (${use.owner})`);
      const reader = inputs.get(key);
      if (reader && !separateSpaces) {
        problems.push({ path: `${use.path}.pin`, message: `${key} (${use.owner}) is an input of ${reader}; it cannot also be an output` });
      }
    } else {
      const driver = outputs.get(key);
      if (driver && !separateSpaces) {
        problems.push({ path: `${use.path}.pin`, message: `${key} (${use.owner}) is an output driven by ${driver}; it cannot also be an input` });
      }
      if (!inputs.has(key)) inputs.set(key, `${use.path} (${use.owner})`);
    }
  }

  // A sim script can only move inputs that some device reads.
  config.io.forEach((b, i) => {
    if (b.type !== 'sim' || !b.script) return;
    b.script.steps.forEach((step, j) => {
      if (!inputs.has(`${b.id}:${step.pin}`)) {
        problems.push({ path: `io[${i}].script.steps[${j}].pin`, message: `pin ${step.pin} of ${b.id} is not an input of any device` });
      }
    });
  });

  // Buses: references resolve, one owner per unit address and per serial port.
  const units = new Map<string, string>();
  const claimUnit = (busId: string, unit: number, path: string) => {
    const key = `${busId}#${unit}`;
    const other = units.get(key);
    if (other) problems.push({ path: `${path}.unit`, message: `unit ${unit} on bus ${busId} is already used by ${other}` });
    else units.set(key, path);
  };
  config.io.forEach((b, i) => {
    if (b.type !== 'modbus-relay') return;
    if (!buses.has(b.bus)) {
      if (!unchecked.buses.has(b.bus)) problems.push({ path: `io[${i}].bus`, message: `no bus "${b.bus}" (${known(buses.keys(), b.bus)})` });
    } else claimUnit(b.bus, b.unit, `io[${i}]`);
  });

  const ports = new Map<string, string>();
  const claimPort = (port: string, path: string) => {
    const other = ports.get(port);
    if (other) problems.push({ path: `${path}.port`, message: `serial port ${port} is already used by ${other}` });
    else ports.set(port, path);
  };
  config.buses.forEach((b, i) => b.type === 'rtu' && claimPort(b.port, `buses[${i}]`));
  config.io.forEach((b, i) => b.type === 'firmata' && claimPort(b.port, `io[${i}]`));
  /** a camera's or reader's lane: a barrier or bollard that exists */
  const laneRef = (ref: string, path: string) => {
    const lane = devices.get(ref);
    if (!lane) {
      if (!unchecked.devices.has(ref))
        problems.push({
          path,
          message: `no device "${ref}"${didYouMean(
            ref,
            [...devices.values()].filter((x) => isLaneType(x.type)).map((x) => x.id),
          )}`,
        });
    } else if (!isLaneType(lane.type)) {
      problems.push({ path, message: `"${ref}" is a ${lane.type}; a lane must be a barrier or bollard` });
    }
  };
  const doorRef = (ref: string, path: string) => {
    const dev = devices.get(ref);
    if (dev) {
      if (!isDoorType(dev.type)) problems.push({ path, message: `"${ref}" is a ${dev.type}; expected a door` });
    } else if (!unchecked.devices.has(ref)) {
      problems.push({
        path,
        message: `no door "${ref}"${didYouMean(
          ref,
          [...devices.values()].filter((x) => isDoorType(x.type)).map((x) => x.id),
        )}`,
      });
    }
  };

  // Each device's references, as its kind says (devices/<kind>/index.ts: references).
  const claims = new Map<string, Map<string, string>>();
  const check: ReferenceCheck = {
    lane: laneRef,
    door: doorRef,
    bus: (ref, path) => {
      const bus = buses.get(ref);
      if (!bus && !unchecked.buses.has(ref)) problems.push({ path, message: `no bus "${ref}" (${known(buses.keys(), ref)})` });
      return bus;
    },
    port: claimPort,
    unit: claimUnit,
    device: (ref) => devices.get(ref) ?? (unchecked.devices.has(ref) ? 'unchecked' : undefined),
    problem: (path, message) => void problems.push({ path, message }),
    claims: (name) => claims.get(name) ?? claims.set(name, new Map()).get(name)!,
  };
  config.devices.forEach((d, i) => {
    // forEach: a partly valid config (validateConfig) has holes where entries did not parse
    kindOf(d.type)?.references?.(d, `devices[${i}]`, check);
  });

  const plates = new Map<string, number>();
  config.access.plates.forEach((p, i) => {
    const key = p.plate.replace(/[\s·.-]/g, '').toUpperCase();
    const first = plates.get(key);
    if (first !== undefined) problems.push({ path: `access.plates[${i}].plate`, message: `duplicate plate (also access.plates[${first}])` });
    else plates.set(key, i);
    p.lanes?.forEach((lane, j) => {
      const dev = devices.get(lane);
      if ((!dev && !unchecked.devices.has(lane)) || (dev && !isLaneType(dev.type))) {
        problems.push({ path: `access.plates[${i}].lanes[${j}]`, message: `no barrier or bollard "${lane}"` });
      }
    });
  });
  // a card's doors may be lanes too (a card reader at a car park barrier)
  config.access.cards.forEach((c, i) =>
    c.doors?.forEach((door, j) => {
      const dev = devices.get(door);
      if (dev && isLaneType(dev.type)) return;
      doorRef(door, `access.cards[${i}].doors[${j}]`);
    }),
  );
  checkCarParks(config, devices, unchecked, problems);
  const screens = config.devices.flatMap((d, i) =>
    d && isLaneType(d.type) && 'display' in d && d.display ? [{ id: d.id, at: `devices[${i}]`, display: d.display }] : [],
  );
  if (screens.length) problems.push(...checkScreenFit(config.access.screen, screens));
  checkTopicPrefix(config, problems);
  return problems;
}

/**
 * Car parks: ids unique and apart from device ids (both name a retained `P/state/{id}`), each
 * lane a barrier or bollard, and in one car park only (a car counted twice would fill both).
 */
function checkCarParks(config: SiteConfig, devices: Map<string, SiteConfig['devices'][number]>, unchecked: Unchecked, problems: Problem[]): void {
  checkUnique(config.access.carParks, 'access.carParks', problems);
  const laneOf = new Map<string, string>();
  config.access.carParks.forEach((park, i) => {
    if (devices.has(park.id))
      problems.push({
        path: `access.carParks[${i}].id`,
        message: `"${park.id}" is also a device id; a car park needs an id of its own (both name P/state/{id})`,
      });
    park.lanes.forEach((lane, j) => {
      const path = `access.carParks[${i}].lanes[${j}]`;
      const dev = devices.get(lane);
      if (!dev) {
        if (!unchecked.devices.has(lane))
          problems.push({
            path,
            message: `no barrier or bollard "${lane}"${didYouMean(
              lane,
              [...devices.values()].filter((x) => isLaneType(x.type)).map((x) => x.id),
            )}`,
          });
        return;
      }
      if (!isLaneType(dev.type)) problems.push({ path, message: `"${lane}" is a ${dev.type}; a car park's lanes are barriers and bollards` });
      const other = laneOf.get(lane);
      if (other !== undefined && other !== park.id)
        problems.push({ path, message: `lane ${lane} already counts for car park ${other}; a lane counts for one car park` });
      else laneOf.set(lane, park.id);
    });
  });
}

/** A topicPrefix may only use the placeholders there are, and {tenant} needs site.tenant. */
function checkTopicPrefix(config: SiteConfig, problems: Problem[]): void {
  const template = config.upstream?.mqtt.topicPrefix;
  if (!template) return;
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(name! in TOPIC_PLACEHOLDERS)) {
      problems.push({
        path: 'upstream.mqtt.topicPrefix',
        message: `unknown placeholder {${name}} (known: ${Object.keys(TOPIC_PLACEHOLDERS)
          .map((k) => `{${k}}`)
          .join(', ')})`,
      });
    } else if (TOPIC_PLACEHOLDERS[name!]!(config) === undefined) {
      problems.push({ path: 'upstream.mqtt.topicPrefix', message: `{${name}} needs site.${name} to be set` });
    }
  }
}
