/**
 * Turns schema issues into one line per problem, each naming the exact path and the value found:
 * `devices[2].lock.pin: expected an integer 0-27, got "17a"`.
 */
import type { z } from 'zod';
import { pinRangeFor } from './sections.js';
import { didYouMean } from './suggest.js';

export interface Problem {
  path: string;
  message: string;
}

export type PathSegment = string | number | symbol;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export function problemLine(p: Problem): string {
  return `${p.path}: ${p.message}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg as PropertyKey];
  }
  return cur;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  literal: 'a fixed value',
};

/** The message zod gives when a schema has no message of its own is replaced by a plain one. */
function plainMessage(issue: z.core.$ZodIssue): string {
  const own = issue.message;
  if (!/^(Invalid|Too (small|big)|Unrecognized)/.test(own)) return own;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${ARTICLE[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `expected at least ${issue.minimum} item(s)`
        : issue.origin === 'string'
          ? `expected at least ${issue.minimum} character(s)`
          : `expected at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `expected at most ${issue.maximum} item(s)`
        : issue.origin === 'string'
          ? `expected at most ${issue.maximum} character(s)`
          : `expected at most ${issue.maximum}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => String(v)).join('|')}`;
    case 'invalid_format':
      return `expected ${issue.format}`;
    default:
      return own;
  }
}

/**
 * @param knownKeys the keys the schema allows at a path, for "did you mean" on an unknown key
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
  knownKeys?: (path: readonly PathSegment[]) => string[] | undefined,
): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const allowed = knownKeys?.(path) ?? [];
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: `unknown key${didYouMean(key, allowed)}` });
      continue;
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      const value = valueAt(raw, path);
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String).join('|');
      out.push({
        path: formatPath(path),
        message: value === undefined ? `required (one of ${options})` : `expected one of ${options}, got ${describeValue(value)}`,
      });
      continue;
    }
    const value = valueAt(raw, path);
    if (value === undefined && issue.code === 'invalid_type') {
      out.push({ path: formatPath(path), message: 'required' });
      continue;
    }
    let message = plainMessage(issue);
    if (path[path.length - 1] === 'pin') {
      const range = pinRangeFor(raw, valueAt(raw, path.slice(0, -1)));
      if (range) message = `expected an integer ${range.min}-${range.max}`;
    }
    // a word of a list in the wrong case or misspelt: "SDM630" is sdm630, "failsafe" fail-safe; but
    // never another model number ("sdm230" is a meter of its own, not a typo of sdm630)
    const digits = (s: string) => s.replace(/\D/g, '');
    const suggestion =
      issue.code === 'invalid_value' && typeof value === 'string'
        ? didYouMean(
            value,
            issue.values.filter((v): v is string => typeof v === 'string' && digits(v) === digits(value)),
          )
        : '';
    // "9600" where a number belongs: YAML read a quoted number as text
    const quoted =
      typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) && /expected (an integer|a number|one of [\d|.]+)/.test(message);
    out.push({
      path: formatPath(path),
      message:
        value === undefined
          ? message
          : `${message}, got ${describeValue(value)}${suggestion}${quoted ? ' (a number in quotes is text: write it without the quotes)' : ''}`,
    });
  }
  return out;
}
