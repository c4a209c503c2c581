/** `npm run docs`: docs/api.md's table of remote commands, made again from gateway/commands.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { commandsTable } from '../dist/gateway/commands.js';

const file = new URL('../docs/api.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const begin = text.indexOf('<!-- commands:');
const end = text.indexOf('<!-- end of commands -->');
if (begin < 0 || end < 0) throw new Error('docs/api.md has no commands markers');
const head = text.slice(0, text.indexOf('\n', begin) + 1);
writeFileSync(file, `${head}${commandsTable()}\n${text.slice(end)}`);
