/** Writes config/schema.json from the zod schema: `npm run schema` after changing the schema. */
import { writeFileSync } from 'node:fs';
import { packagePath } from '../core/paths.js';
import { jsonSchema } from './schema.js';

export function schemaText(): string {
  return `${JSON.stringify(jsonSchema(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = packagePath('config', 'schema.json');
  writeFileSync(file, schemaText());
  console.log(`wrote ${file}`);
}
