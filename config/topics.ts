/** The upstream topic prefix `P`: a template over the site's and gateway's names. */
import type { SiteConfig } from './schema.js';

/** Placeholders a topicPrefix may use, and what each becomes. */
export const TOPIC_PLACEHOLDERS: Record<string, (c: SiteConfig) => string | undefined> = {
  tenant: (c) => c.site.tenant,
  site: (c) => c.site.id,
  'site.id': (c) => c.site.id,
  gateway: (c) => c.gateway.id,
  'gateway.id': (c) => c.gateway.id,
};

/** `P`: the configured prefix with its placeholders filled in, or `estate/{site}/{gateway}`. */
export function topicPrefix(config: SiteConfig): string {
  const template = config.upstream?.mqtt.topicPrefix ?? 'estate/{site}/{gateway}';
  return template.replace(/\{([a-z.]+)\}/g, (whole, name: string) => TOPIC_PLACEHOLDERS[name]?.(config) ?? whole);
}
