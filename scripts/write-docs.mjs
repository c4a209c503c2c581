/**
 * `npm run docs`: the parts of the docs made from the code, made again: docs/api.md's table of
 * remote commands (gateway/commands.ts) and docs/configuration.md's reference of every key (the
 * schema, config/reference.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationReference } from '../dist/config/reference.js';
import { commandsTable } from '../dist/gateway/commands.js';

function between(page, name, endMarker, content) {
  const file = new URL(`../docs/${page}`, import.meta.url);
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf(`<!-- ${name}:`);
  const end = text.indexOf(endMarker);
  if (begin < 0 || end < 0) throw new Error(`docs/${page} has no ${name} markers`);
  const head = text.slice(0, text.indexOf('\n', begin) + 1);
  writeFileSync(file, `${head}${content}\n${text.slice(end)}`);
}

between('api.md', 'commands', '<!-- end of commands -->', commandsTable());
between('configuration.md', 'reference', '<!-- end of reference -->', configurationReference());
