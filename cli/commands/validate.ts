/** `estate-gateway validate --config FILE` */
import type { SiteConfig } from '../../config/schema.js';
import { loadConfigFile } from '../../config/load.js';
import type { Problem } from '../../schema/problems.js';
import { problemLine } from '../../schema/problems.js';
import { isGatewayError } from '../../core/errors.js';
import type { Output } from './output.js';

export function summarize(config: SiteConfig): string {
  const counts = new Map<string, number>();
  for (const d of config.devices) counts.set(d.type, (counts.get(d.type) ?? 0) + 1);
  const kinds = [...counts].map(([type, n]) => `${n} ${type}`).join(', ');
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `ok: site ${config.site.id}, gateway ${config.gateway.id}: ${plural(config.devices.length, 'device')}` +
    `${kinds ? ` (${kinds})` : ''}, ${plural(config.io.length, 'io board')}, ${plural(config.buses.length, 'bus')}`.replace('buss', 'buses')
  );
}

export function validateCommand(configFile: string, out: Output): number {
  try {
    const { config } = loadConfigFile(configFile);
    out.stdout(summarize(config));
    return 0;
  } catch (err) {
    if (isGatewayError(err, 'CONFIG_INVALID')) {
      for (const p of err.context.problems as Problem[]) out.stdout(problemLine(p));
      out.stderr(`${configFile}: ${(err.context.problems as Problem[]).length} problem(s)`);
      return 2;
    }
    if (isGatewayError(err, 'CONFIG_UNREADABLE')) {
      out.stderr(err.message);
      return 2;
    }
    throw err;
  }
}
