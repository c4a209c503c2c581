/** Reads a site config from YAML, validates it whole, and resolves paths against the file. */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { GatewayError, errorMessage } from '../core/errors.js';
import type { z } from 'zod';
import { crossCheck } from './crosscheck.js';
import type { Unchecked } from './crosscheck.js';
import type { Problem } from '../schema/problems.js';
import { problemsFromIssues } from '../schema/problems.js';
import type { SiteConfig } from './schema.js';
import { siteConfig } from './schema.js';
import type { PinUse } from './pins.js';
import { kindOf } from '../devices/kinds.js';
import { pinRef } from '../schema/sections.js';
import type { PinRole } from '../schema/sections.js';

/** A site file is a few kilobytes; anything this large is the wrong file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type Validation = { ok: true; config: SiteConfig } | { ok: false; problems: Problem[] };

/**
 * Validates an already-parsed document, every problem in one pass: the schema's, and the rules
 * that span entries (references, pins, units) over every entry that passed the schema, so an
 * installer fixes a file in one round, not one problem per run.
 */
export function validateConfig(raw: unknown): Validation {
  const parsed = siteConfig.safeParse(raw, { reportInput: true });
  if (parsed.success) {
    const problems = crossCheck(parsed.data);
    return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
  }
  const problems = problemsFromIssues(parsed.error.issues, raw, (path) => keysAt(siteConfig, path, raw));
  const partial = partialConfig(raw);
  if (partial) {
    const seen = new Set(problems.map((p) => `${p.path}: ${p.message}`));
    for (const p of crossCheck(partial.config, partial.unchecked)) if (!seen.has(`${p.path}: ${p.message}`)) problems.push(p);
  }
  return { ok: false, problems };
}

/** The keys a (zod) schema allows at `path` of the document, following its lists and `type` unions. */
function keysAt(root: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] | undefined {
  type Def = { type?: string; innerType?: Node; in?: Node; element?: Node; options?: Node[]; shape?: Record<string, Node> };
  type Node = { _zod: { def: Def } };
  const unwrap = (n: Node, value: unknown): Node => {
    for (let i = 0; i < 10; i++) {
      const def = n._zod.def;
      if (def.innerType)
        n = def.innerType; // optional, default, prefault
      else if (def.type === 'pipe' && def.in) n = def.in;
      else if (def.type === 'union' && def.options) {
        const type = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
        const pick = def.options.find((o) => {
          const lit = (o._zod.def.shape?.['type'] as Node | undefined)?._zod.def as { values?: unknown[] } | undefined;
          return lit?.values?.includes(type);
        });
        if (!pick) return n;
        n = pick;
      } else return n;
    }
    return n;
  };
  let node = unwrap(root as unknown as Node, raw);
  let value: unknown = raw;
  for (const seg of path) {
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
    const def = node._zod.def;
    const next = typeof seg === 'number' ? def.element : def.shape?.[String(seg)];
    if (!next) return undefined;
    node = unwrap(next, value);
  }
  const shape = node._zod.def.shape;
  return shape ? Object.keys(shape) : undefined;
}

/**
 * The part of a config that passes the schema: every top-level section that parses on its own,
 * and of the io, buses and devices lists the entries that parse on their own, at their own
 * indices (holes where one did not). The ids of the entries left out are passed along, so a
 * reference to them is not reported as missing: its entry's own problem was.
 */
function partialConfig(raw: unknown): { config: SiteConfig; unchecked: Unchecked } | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const doc = raw as Record<string, unknown>;
  // A list that is not a list at all: what refers into it cannot be checked.
  if ((['io', 'buses', 'devices'] as const).some((k) => doc[k] !== undefined && !Array.isArray(doc[k]))) return undefined;
  const shape = siteConfig.shape;
  const section = <K extends keyof typeof shape>(key: K): z.output<(typeof shape)[K]> | undefined => {
    const r = shape[key].safeParse(doc[key]);
    if (r.success) return r.data as z.output<(typeof shape)[K]>;
    const fallback = shape[key].safeParse(undefined);
    return fallback.success ? (fallback.data as z.output<(typeof shape)[K]>) : undefined;
  };
  const unchecked = { io: new Set<string>(), buses: new Set<string>(), devices: new Set<string>(), pins: [] as PinUse[] };
  const list = <T>(key: 'io' | 'buses' | 'devices', item: z.ZodType<T>): T[] => {
    const entries = doc[key];
    const out: T[] = [];
    if (!Array.isArray(entries)) return out;
    entries.forEach((entry: unknown, i) => {
      const r = item.safeParse(entry);
      if (r.success) out[i] = r.data;
      else if (entry && typeof entry === 'object' && typeof (entry as { id?: unknown }).id === 'string') unchecked[key].add((entry as { id: string }).id);
    });
    return out;
  };
  // the pins of device entries that did not parse, where their kind and pin references are sound
  (doc['devices'] as unknown[] | undefined)?.forEach((entry, i) => {
    if (!entry || typeof entry !== 'object') return;
    const e = entry as { id?: unknown; type?: unknown };
    const kind = typeof e.type === 'string' ? kindOf(e.type) : undefined;
    if (!kind || kind.schema.safeParse(entry).success) return;
    let roles: PinRole[];
    try {
      roles = kind.pins(entry as never);
    } catch {
      return;
    }
    for (const role of roles) {
      const ref = pinRef.safeParse(role.ref);
      if (role.ref !== undefined && ref.success) {
        unchecked.pins.push({
          owner: typeof e.id === 'string' ? e.id : `devices[${i}]`,
          role: role.role,
          direction: role.direction,
          ref: ref.data,
          path: `devices[${i}].${role.role}`,
        });
      }
    }
  });
  const site = section('site') ?? { id: 'site' };
  const gateway = section('gateway') ?? { id: 'gateway', dataDir: '.' };
  const storage = section('storage');
  const consoleSection = section('console');
  const access = section('access');
  if (!storage || !consoleSection || !access) return undefined;
  const upstream = section('upstream');
  const fireAlarm = section('fireAlarm');
  const config: SiteConfig = {
    site,
    gateway,
    storage,
    console: consoleSection,
    access,
    io: list('io', shape.io.unwrap().element),
    buses: list('buses', shape.buses.unwrap().element),
    devices: list('devices', shape.devices.unwrap().element),
    ...(upstream ? { upstream } : {}),
    ...(fireAlarm ? { fireAlarm } : {}),
  };
  return { config, unchecked };
}

/** Parses YAML text; syntax errors become problems with line and column. */
export function parseYaml(text: string): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return { path: `line ${at.line}, column ${at.col}`, message: e.message.split('\n')[0] ?? e.message };
      }),
    };
  }
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
}

export function validateYaml(text: string): Validation {
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed;
  if (parsed.value === null || parsed.value === undefined) {
    return { ok: false, problems: [{ path: '(top level)', message: 'the file is empty; expected a site config' }] };
  }
  return validateConfig(parsed.value);
}

function readConfigText(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new GatewayError('CONFIG_UNREADABLE', `cannot read config ${file}: ${errorMessage(e)}`, { file });
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new GatewayError('CONFIG_UNREADABLE', `config ${file} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}`, { file });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatewayError('CONFIG_UNREADABLE', `cannot read config ${file}: ${errorMessage(e)}`, { file });
  }
}

export interface LoadedConfig {
  config: SiteConfig;
  file: string;
}

/**
 * Loads and validates a config file. Relative paths in it (dataDir, sim trace files) are taken
 * relative to the file, so a site directory can be moved or copied whole.
 * Throws CONFIG_UNREADABLE or CONFIG_INVALID (context.problems holds every problem).
 */
export function loadConfigFile(file: string): LoadedConfig {
  const path = resolve(file);
  const result = configFromText(readConfigText(path), path);
  if (!result.ok) {
    throw new GatewayError('CONFIG_INVALID', `config ${file} is invalid`, { file, problems: result.problems });
  }
  return { config: result.config, file: path };
}

/**
 * Validates a site file's text (YAML, or JSON, which YAML reads too) as if it were at `path`:
 * relative paths in it (dataDir, sim trace files, key, certificate and secret files) are taken
 * relative to that file.
 */
export function configFromText(text: string, path: string): Validation {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES)
    return { ok: false, problems: [{ path: '(top level)', message: `the config is over ${MAX_CONFIG_BYTES} bytes` }] };
  const result = validateYaml(text);
  if (!result.ok) return result;
  const base = dirname(resolve(path));
  const config = result.config;
  config.gateway.dataDir = resolve(base, config.gateway.dataDir);
  for (const board of config.io) {
    if (board.type === 'sim' && board.traceFile) board.traceFile = resolve(base, board.traceFile);
  }
  if (config.upgrade) {
    config.upgrade.publicKey = resolve(base, config.upgrade.publicKey);
    if (config.upgrade.ca) config.upgrade.ca = resolve(base, config.upgrade.ca);
  }
  // Key and secret files named relative to the config file are found beside it, whatever the
  // working directory (under systemd it is /).
  if (config.access.passes) config.access.passes.publicKey = resolve(base, config.access.passes.publicKey);
  const mqtt = config.upstream?.mqtt;
  if (mqtt) {
    if (mqtt.passwordFile) mqtt.passwordFile = resolve(base, mqtt.passwordFile);
    if (mqtt.commandKey) mqtt.commandKey = resolve(base, mqtt.commandKey);
    if (mqtt.tls) {
      if (mqtt.tls.ca) mqtt.tls.ca = resolve(base, mqtt.tls.ca);
      if (mqtt.tls.cert) mqtt.tls.cert = resolve(base, mqtt.tls.cert);
      if (mqtt.tls.key) mqtt.tls.key = resolve(base, mqtt.tls.key);
    }
  }
  return { ok: true, config };
}

export { topicPrefix } from './topics.js';
