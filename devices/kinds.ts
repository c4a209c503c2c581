/**
 * The runtime half of each device kind, in one table: how it is built, the states its snapshot
 * can show, the events it makes. The config half (schema, pins, whether it is a lane) is
 * DEVICE_KINDS in config/devices.ts; everything else is derived from these two tables: the
 * factory below, the pin planner and cross-checks, the I/O page, the console's vocabulary
 * (devices/vocabulary.ts) and its translation test.
 *
 * Adding a kind: its schema and pins in config/devices.ts, its class in its own file here, an
 * entry in this table, its words in console/i18n.js (a test says which are missing), tests.
 */
import type { AccessControl } from '../access/access.js';
import type { Credentials } from '../access/credentials.js';
import type { DeviceConfig, DeviceType } from '../config/devices.js';
import { isLaneType } from '../config/devices.js';
import { GatewayError } from '../core/errors.js';
import type { EventType } from '../core/events.js';
import { TERMINAL_PROTOCOLS } from '../drivers/acs/index.js';
import { CAMERA_PROTOCOLS } from '../drivers/lpr/index.js';
import { AccessTerminal } from './access-terminal.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import { AlarmInput } from './alarm-input.js';
import { Barrier } from './barrier.js';
import { Bollard } from './bollard.js';
import { Door } from './door.js';
import { LprCamera } from './lpr-camera.js';
import { Meter } from './meter/meter.js';
import { Reader } from './reader.js';
import type { ReaderDeps } from './reader.js';
import type { Device, DeviceContext, LaneDevice } from './types.js';

export interface DeviceFactoryDeps {
  buses: ReadonlyMap<string, ModbusBus>;
  /** where in its interval a meter is polled (0 <= phase < 1), to spread a bus's meters */
  meterPhase(deviceId: string): number;
  access: AccessControl;
  /** QR passes and cards, for readers */
  credentials: Credentials;
  /** a reader's own device source (tests) */
  readerSource?: ReaderDeps['source'];
  /** another device, by id (a camera's lane), looked up when asked */
  device(id: string): Device | undefined;
  /** actuation latency of camera pushes, in seconds */
  actuated?(seconds: number): void;
}

interface Kind<C extends DeviceConfig> {
  create(config: C, ctx: DeviceContext, deps: DeviceFactoryDeps): Device;
  /** every `state` its snapshot can show */
  states: readonly string[];
  /** the events it makes (besides device.fault / device.recovered, which every kind can) */
  events: readonly EventType[];
}

type Kinds = { [T in DeviceType]: Kind<Extract<DeviceConfig, { type: T }>> };

export const KINDS = {
  door: {
    create: (c, ctx) => new Door(c, ctx),
    states: ['locked', 'unlocked'],
    events: ['door.unlocked', 'door.locked', 'door.opened', 'door.closed', 'door.forced', 'door.held-open'],
  },
  barrier: {
    create: (c, ctx) => new Barrier(c, ctx),
    states: ['unknown', 'open', 'closing', 'closed'],
    events: ['barrier.opened', 'barrier.closed', 'barrier.blocked'],
  },
  bollard: {
    create: (c, ctx) => new Bollard(c, ctx),
    states: ['unknown', 'up', 'down', 'raising', 'lowering'],
    events: ['bollard.lowered', 'bollard.raised', 'bollard.blocked', 'bollard.fault'],
  },
  'lpr-camera': {
    create: (c, ctx, deps) =>
      new LprCamera(c, ctx, {
        protocol: CAMERA_PROTOCOLS[c.vendor],
        access: deps.access,
        ...(deps.actuated ? { actuated: deps.actuated } : {}),
        lane: () => {
          const lane = deps.device(c.lane);
          return isLane(lane) ? lane : undefined;
        },
      }),
    states: ['waiting', 'online', 'silent'],
    events: ['vehicle.entry', 'vehicle.exit', 'vehicle.decided'],
  },
  meter: {
    create: (c, ctx, deps) => {
      const bus = deps.buses.get(c.bus);
      if (!bus) throw new GatewayError('DEVICE_UNSUPPORTED', `device ${c.id}: no bus ${c.bus}`, { device: c.id });
      return new Meter(c, { ...ctx, bus, phase: deps.meterPhase(c.id) });
    },
    states: ['ok', 'waiting'],
    events: ['meter.reading'],
  },
  'alarm-input': {
    create: (c, ctx) => new AlarmInput(c, ctx),
    states: ['normal', 'alarm'],
    events: ['alarm.raised', 'alarm.cleared'],
  },
  reader: {
    create: (c, ctx, deps) =>
      new Reader(c, ctx, { credentials: deps.credentials, target: () => deps.device(c.door ?? c.lane!), ...(deps.readerSource ? { source: deps.readerSource } : {}) }),
    states: ['waiting', 'online', 'offline'],
    events: ['access.denied'],
  },
  'access-terminal': {
    create: (c, ctx) => new AccessTerminal(c, ctx, TERMINAL_PROTOCOLS[c.vendor]),
    states: ['waiting', 'online', 'silent'],
    events: ['door.unlocked', 'access.denied'],
  },
} as const satisfies Kinds;

/** The states a kind's snapshot can show, as a type: a device cannot report a state its kind does not list. */
export type DeviceState<T extends DeviceType> = (typeof KINDS)[T]['states'][number];

/** Builds the device a site config names, by its kind. */
export function createDevice(config: DeviceConfig, ctx: DeviceContext, deps: DeviceFactoryDeps): Device {
  return (KINDS[config.type] as Kind<DeviceConfig>).create(config, ctx, deps);
}

/** A barrier or bollard: a device a camera can open (the kind says so, config/devices.ts). */
export function isLane(device: Device | undefined): device is LaneDevice {
  return device !== undefined && isLaneType(device.type);
}
