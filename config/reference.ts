/**
 * docs/configuration.md's reference of every key, made from the schema (its JSON Schema, with the
 * descriptions each key carries), so it cannot drift from what `validate` accepts: one table for
 * the sections of the site file, one per I/O board type, bus type and device kind. `npm run docs`
 * writes it; test/config.test.ts checks that the page holds what the schema makes now.
 */
import { jsonSchema } from './schema.js';

interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
  additionalProperties?: Node | boolean;
}

/** What a value is, in a few words: `integer 200-255000`, `one of fail-secure, fail-safe`, `list of ...`. */
function what(n: Node): string {
  if (n.const !== undefined) return `\`${String(n.const)}\``;
  if (n.enum) return `one of ${n.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (n.anyOf || n.oneOf) {
    const kinds = (n.anyOf ?? n.oneOf)!.map(what).filter((w, i, all) => all.indexOf(w) === i);
    return kinds.join(' or ');
  }
  const type = Array.isArray(n.type) ? n.type.join(' or ') : n.type;
  if (type === 'array') return `list of ${n.items ? what(n.items) : 'values'}`;
  if (type === 'object') return n.properties ? 'mapping (below)' : 'mapping';
  if ((type === 'integer' || type === 'number') && n.minimum !== undefined && n.maximum !== undefined) return `${type} ${n.minimum}-${n.maximum}`;
  if (type === 'string' && n.pattern === '^[a-z0-9][a-z0-9-]*$') return 'id';
  return type ?? 'value';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The rows of one mapping's keys, nested mappings as `parent.key` below their parent. */
function rows(n: Node, prefix = ''): string[] {
  const out: string[] = [];
  const required = new Set(n.required ?? []);
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const path = `${prefix}${key}`;
    const def = child.default !== undefined ? `\`${JSON.stringify(child.default)}\`` : required.has(key) ? 'required' : '';
    out.push(`| \`${path}\` | ${cell(what(child))} | ${def} | ${cell(child.description ?? '')} |`);
    // a mapping nested in place (a pin reference, tls, passes), or the entries of a list (plates,
    // cards, registers), is spelled out under its parent
    if (child.properties) out.push(...rows(child, `${path}.`));
    else if (child.items?.properties) out.push(...rows(child.items, `${path}[].`));
  }
  return out;
}

const table = (n: Node, prefix = '') => ['| key | value | default | what it is |', '|---|---|---|---|', ...rows(n, prefix)].join('\n');

/** One table per variant of a list told apart by `type` (boards, buses, device kinds). */
function variants(list: Node | undefined, heading: string): string[] {
  const options = list?.items?.oneOf ?? list?.items?.anyOf ?? [];
  return options.map((o) => `#### ${heading} \`${String(o.properties?.['type']?.const)}\`\n\n${table(o)}`);
}

export function configurationReference(): string {
  const root = jsonSchema() as Node;
  const props = root.properties ?? {};
  const top: Node = {
    properties: Object.fromEntries(Object.entries(props).filter(([k]) => !['io', 'buses', 'devices'].includes(k))),
    required: root.required ?? [],
  };
  return [
    '### The sections',
    '',
    table(top),
    '',
    '### I/O boards (`io`)',
    '',
    ...variants(props['io'], 'io board').flatMap((t) => [t, '']),
    '### Buses (`buses`)',
    '',
    ...variants(props['buses'], 'bus').flatMap((t) => [t, '']),
    '### Devices (`devices`)',
    '',
    ...variants(props['devices'], 'device').flatMap((t) => [t, '']),
  ]
    .join('\n')
    .trimEnd();
}
