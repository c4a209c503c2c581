/**
 * What a device kind is: everything the rest of the gateway asks of it, declared by the kind in
 * its own folder (devices/<kind>/index.ts) and nowhere else. The table of kinds (devices/kinds.ts)
 * lists them; the site schema, the cross-checks, the pin planner, /api/health, the doctor, the
 * push routes and the console's device cards all iterate over that table and ask each kind.
 *
 * A kind's declaration is small and always loaded (a site file is validated whole); its runtime
 * (the class and the drivers it needs: serialport, the cameras' XML parser, ...) is behind
 * `load()`, imported only when a site has a device of that kind.
 *
 * Every capability is a required key. A kind that has none of something says so with `null`
 * (a door pushes nothing: `push: null`), so a missing answer is a compile error and a test
 * failure, never a silent gap.
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { EventType } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import type { BusConfig, PinRole } from '../schema/sections.js';
import type { AccessControl } from '../access/access.js';
import type { Credentials } from '../access/credentials.js';
import type { ReaderSink, ReaderSource } from '../drivers/readers/source.js';
import type { Device, DeviceContext, LaneDevice } from './types.js';

export type Lang = 'zh-CN' | 'en';

/** What the composition root gives every kind's factory. */
export interface DeviceFactoryDeps {
  buses: ReadonlyMap<string, ModbusBus>;
  /** every device entry of the site (a meter spreads its bus's meters over their interval) */
  siteDevices: readonly { id: string; type: string }[];
  access: AccessControl;
  /** QR passes and cards, for readers */
  credentials: Credentials;
  /** a reader's own device source (tests) */
  readerSource?(sink: ReaderSink, clock: Clock): ReaderSource;
  /** another device, by id, looked up when asked */
  device(id: string): Device | undefined;
  /** a lane (a barrier or bollard), by id, looked up when asked */
  lane(id: string): LaneDevice | undefined;
  /** actuation latency of camera pushes, in seconds */
  actuated?(seconds: number): void;
}

/** A kind's words on the console, in one language. */
export interface KindWords<State extends string = string> {
  /** what the kind is called: a card's subtitle, the I/O page */
  name: string;
  /** every state its snapshot can show */
  states: Record<State, string>;
  /** the labels of its open and close buttons; absent when staff cannot command it */
  actions?: { open: string; close: string };
  /** words its card uses (labels of fields) */
  labels?: Record<string, string>;
  /** its pins' roles as the I/O page names them (`lock`: 门锁) */
  roles?: Record<string, string>;
}

/**
 * One part of a device card, beside the state every card shows. The console knows how to draw
 * each `show` (console/app.js, deviceCard); which parts a kind's card has, and from which snapshot
 * field, is the kind's to say.
 */
export type CardPart =
  /** a field's value as a word of one of the console's vocabularies (a door's contact) */
  | { show: 'word'; field: string; group: string; hideWhen?: readonly string[] }
  /** a field's value as a warning badge when set (a door forced open) */
  | { show: 'badge'; field: string; group: string }
  /** another device a field names, after a label of the kind's own (the door a reader opens) */
  | { show: 'device'; field: string; label: string }
  /** a plate read: `{ plate, decision }` */
  | { show: 'plate-read'; field: string; label: string }
  /** meter values `{ name: number }` as a grid, each named and unitted by the console */
  | { show: 'values'; field: string; label: string }
  /** what the gateway last did `{ action: 'open' | 'close', at, by }`: the label, the kind's button word, the time, who */
  | { show: 'last-action'; field: string; label: string }
  /** what a lane's screen shows `{ state, shown: { lines } }` (devices/lane-display.ts) */
  | { show: 'screen'; field: string; label: string };

/** Where the kind's devices are in /api/health: `health[group][deviceId]`, from `Device.health()`. */
export interface HealthGroup {
  group: string;
  /** listed even when the site has none of this kind (cameras and meters were from the first version) */
  always: boolean;
}

/** One line of `estate-gateway doctor`. */
export type CheckResult = 'ok' | 'FAIL' | 'warn' | 'skip';
export interface Check {
  name: string;
  result: CheckResult;
  detail: string;
  hint?: string;
}

/** What the doctor hands a kind's checks. */
export interface DoctorContext {
  /** the running gateway's /api/health, when one answers; its groups hold each kind's entries */
  health: { [group: string]: unknown } | undefined;
  /** the console's port (push URLs) */
  port: number;
  /** the site's buses: their config, and when no gateway runs, opened by the doctor */
  busConfigs: readonly BusConfig[];
  buses: ReadonlyMap<string, ModbusBus>;
  /** whether the site has a visitor pass key configured */
  passKey: boolean;
  /** per-check time limit */
  timeoutMs: number;
  clock: Clock;
  log: Logger;
}

/** The references one device makes, checked against the rest of the site (config/crosscheck.ts). */
export interface ReferenceCheck {
  /** a barrier or bollard (a lane) by id */
  lane(id: string, path: string): void;
  /** a door by id */
  door(id: string, path: string): void;
  /** a Modbus bus by id; returns its config when it exists */
  bus(id: string, path: string): BusConfig | undefined;
  /** a serial port this device owns alone */
  port(port: string, path: string): void;
  /** a Modbus unit on a bus, owned alone */
  unit(bus: string, unit: number, path: string): void;
  /** another device's config by id, 'unchecked' when it is there but did not pass the schema (no problem reported) */
  device(id: string): { type: string; [key: string]: unknown } | 'unchecked' | undefined;
  /** a problem of this device's own */
  problem(path: string, message: string): void;
  /** a map kept for one check of the whole site, by name: what the kind's devices claimed so far (key -> path) */
  claims(name: string): Map<string, string>;
}

/** A push route: `POST /{path}/{deviceId}`, and fixed paths matched to a device by the sender's address. */
export interface PushRoutes<C> {
  /** first level of `POST /{path}/{deviceId}` */
  path: string;
  /** what the device is called in a refusal ("no camera x") */
  what: string;
  /** vendor paths with no device id in them (Dahua's `/NotificationInfo/*`): which devices may take them */
  fixed?: { path: string; takes(config: C): boolean };
}

/** The runtime half of a kind, loaded when a site uses it. */
export interface KindRuntime<C> {
  create(config: C, ctx: DeviceContext, deps: DeviceFactoryDeps): Device;
}

export interface Kind<C extends { id: string; type: string } = { id: string; type: string }> {
  /** its entry in the site file */
  schema: z.ZodType<C, unknown>;
  /** the pins it uses, by role (the pin planner, the cross-checks, the I/O page) */
  pins(config: C): PinRole[];
  /** whether cameras and readers may name it as their lane */
  lane: boolean;
  /** whether readers and cards may name it as their door */
  door: boolean;
  /** the references it makes to other parts of the site; null when it makes none */
  references: ((config: C, at: string, check: ReferenceCheck) => void) | null;
  /** every `state` its snapshot can show */
  states: readonly string[];
  /** the events it makes (besides device.fault / device.recovered, which every kind can) */
  events: readonly EventType[];
  /** its words on the console, in both languages */
  words: Record<Lang, KindWords>;
  /** what its console card shows besides its name and state */
  card: readonly CardPart[];
  /** its entry in /api/health; null when it has none beyond the device counts */
  health: HealthGroup | null;
  /** its doctor checks, over every device of the kind in the site; null when it has none */
  doctor: ((devices: readonly C[], ctx: DoctorContext) => Promise<Check[]>) | null;
  /** the HTTP pushes it receives; null when it receives none */
  push: PushRoutes<C> | null;
  /** its class and drivers, imported when a site has such a device */
  load(): Promise<KindRuntime<C>>;
}

/**
 * Declares a kind: the type of its config follows from its schema, its states stay literal (a
 * device cannot report a state its kind does not list: DeviceBase), and the compiler wants a
 * word for each state in both languages.
 */
export function kind<S extends z.ZodType<{ id: string; type: string }, unknown>, const St extends readonly string[]>(
  k: Omit<Kind<z.output<S>>, 'schema' | 'states' | 'words'> & { schema: S; states: St; words: Record<Lang, KindWords<St[number]>> },
): Kind<z.output<S>> & { schema: S; states: St } {
  return k as Kind<z.output<S>> & { schema: S; states: St };
}
