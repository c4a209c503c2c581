/**
 * `estate-gateway init`: writes a starter site file from deploy/site.template.yaml, with the
 * site's and gateway's ids and the site's name filled in as YAML (a name with quotes, slashes or
 * Chinese is written as a proper YAML string, never spliced in as text), and validates it.
 * deploy/install.sh uses it for a gateway that has no config yet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomic-file.js';
import { stringify } from 'yaml';
import { packagePath } from '../../core/paths.js';
import { GatewayError } from '../../core/errors.js';
import { configFromText } from '../../config/load.js';
import { idPattern } from '../../schema/units.js';
import type { Output } from './output.js';

export interface InitOptions {
  siteId: string;
  gatewayId: string;
  siteName?: string | undefined;
  output: string;
  /** replace an existing file (default: refuse) */
  force?: boolean;
}

/** What an id would be if the installer meant it: `Music Square` → `music-square`. */
export function idSuggestion(value: string): string {
  return (
    value
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .replace(/-{2,}/g, '-') || 'my-estate'
  );
}

export function checkId(flag: string, value: string): void {
  if (!idPattern.test(value)) {
    throw new GatewayError('USAGE', `${flag} "${value}": expected lowercase letters, digits and dashes (e.g. ${idSuggestion(value)})`);
  }
}

export async function initCommand(o: InitOptions, out: Output): Promise<number> {
  checkId('--site-id', o.siteId);
  checkId('--gateway-id', o.gatewayId);
  if (existsSync(o.output) && !o.force) throw new GatewayError('USAGE', `${o.output} exists already; it is not overwritten (--force replaces it)`);
  const scalar = (v: string) => stringify(v, { lineWidth: 0 }).trimEnd();
  const template = readFileSync(packagePath('deploy', 'site.template.yaml'), 'utf8');
  const text = template
    .replaceAll('@SITE_ID@', o.siteId)
    .replaceAll('@GATEWAY_ID@', o.gatewayId)
    .replace('"@SITE_NAME@"', scalar(o.siteName ?? o.siteId));
  const result = configFromText(text, o.output);
  if (!result.ok) {
    for (const p of result.problems) out.stdout(`${p.path}: ${p.message}`);
    out.stderr(`the starter config would not be valid (${result.problems.length} problem(s)); nothing was written`);
    return 2;
  }
  writeFileAtomicSync(o.output, text, 0o640);
  out.stdout(`wrote ${o.output}: site ${o.siteId}, gateway ${o.gatewayId}`);
  return 0;
}
