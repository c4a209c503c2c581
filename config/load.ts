/** Reads a site config from YAML, validates it whole, and resolves paths against the file. */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { GatewayError, errorMessage } from '../core/errors.js';
import { crossCheck } from './crosscheck.js';
import type { Problem } from './problems.js';
import { problemsFromIssues } from './problems.js';
import type { SiteConfig } from './schema.js';
import { siteConfig } from './schema.js';

/** A site file is a few kilobytes; anything this large is the wrong file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type Validation = { ok: true; config: SiteConfig } | { ok: false; problems: Problem[] };

/** Validates an already-parsed document: the schema first, then the rules that span entries. */
export function validateConfig(raw: unknown): Validation {
  const parsed = siteConfig.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: problemsFromIssues(parsed.error.issues, raw) };
  const problems = crossCheck(parsed.data);
  return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
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
 * relative paths in it (dataDir, sim trace files, secret files) are taken relative to that file.
 */
export function configFromText(text: string, path: string): Validation {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) return { ok: false, problems: [{ path: '(top level)', message: `the config is over ${MAX_CONFIG_BYTES} bytes` }] };
  const result = validateYaml(text);
  if (!result.ok) return result;
  const base = dirname(resolve(path));
  const config = result.config;
  config.gateway.dataDir = resolve(base, config.gateway.dataDir);
  for (const board of config.io) {
    if (board.type === 'sim' && board.traceFile) board.traceFile = resolve(base, board.traceFile);
  }
  // Secret files named relative to the config file are found beside it.
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
