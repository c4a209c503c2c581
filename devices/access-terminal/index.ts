/**
 * The access terminal kind (`type: access-terminal`): a Hikvision or Dahua face or card terminal
 * that decides by itself and pushes what it did (`POST /acs/{id}`, docs/credentials.md). The
 * class is devices/access-terminal/terminal.ts; the vendors' formats load with it.
 */
import { z } from 'zod';
import { CARD_FORMATS } from '../../access/card-format.js';
import { TERMINAL_VENDORS } from '../../drivers/acs/types.js';
import { addressOrCidr, displayName } from '../../schema/sections.js';
import { id, oneOf } from '../../schema/units.js';
import type { Check } from '../kind.js';
import { kind } from '../kind.js';
import type { PushHealth } from '../push.js';

export { TERMINAL_VENDORS };
/** A face or card terminal that decides by itself and pushes its access events (docs/credentials.md). */
export const accessTerminal = z.strictObject({
  id,
  type: z.literal('access-terminal'),
  name: displayName,
  vendor: oneOf(TERMINAL_VENDORS),
  allowFrom: z.array(addressOrCidr, { error: 'expected a list of IP addresses' }).min(1, { error: 'expected at least one address the terminal pushes from' }),
  cardFormat: oneOf(CARD_FORMATS).default('as-read').meta({
    description: "how it reports a card: decimal, hex, hex-reversed, decimal-reversed, wiegand26; events carry the list's 10-digit form (docs/credentials.md)",
  }),
});
export type AccessTerminalConfig = z.output<typeof accessTerminal>;

export const ACCESS_TERMINAL_STATES = ['waiting', 'online', 'silent'] as const;
export type AccessTerminalState = (typeof ACCESS_TERMINAL_STATES)[number];

export const ACCESS_TERMINAL = kind({
  schema: accessTerminal,
  pins: () => [],
  lane: false,
  door: false,
  references: null,
  states: ACCESS_TERMINAL_STATES,
  events: ['door.unlocked', 'access.denied'],
  words: {
    'zh-CN': { name: '人脸/刷卡终端', states: { waiting: '等待首次推送', online: '在线', silent: '长时间无推送' } },
    en: { name: 'access terminal', states: { waiting: 'waiting for its first push', online: 'online', silent: 'silent for a while' } },
  },
  card: [],
  health: { group: 'terminals', always: false },
  doctor: async (terminals, ctx) => {
    const checks: Check[] = [];
    const seen = ctx.health?.['terminals'] as Record<string, PushHealth> | undefined;
    for (const d of terminals) {
      const hint = `set the terminal's HTTP event push (${d.vendor === 'hikvision' ? 'Event > Alarm Linkage > HTTP listening / httpHosts, JSON' : 'Event > HTTP upload'}) to http://<this gateway's address>:${ctx.port}/acs/${d.id}; it must push from ${d.allowFrom.join(', ')} (allowFrom)`;
      const t = seen?.[d.id];
      if (!ctx.health)
        checks.push({ name: `terminal ${d.id}`, result: 'skip', detail: `${d.vendor}: the gateway is not running, so no push can have arrived`, hint });
      else if (t?.lastSeenAt)
        checks.push({ name: `terminal ${d.id}`, result: t.state === 'online' ? 'ok' : 'warn', detail: `${d.vendor}: last push ${t.lastSeenAt}` });
      else checks.push({ name: `terminal ${d.id}`, result: 'FAIL', detail: `${d.vendor}: nothing received since the gateway started`, hint });
    }
    return checks;
  },
  push: { path: 'acs', what: 'access terminal' },
  load: async () => {
    const [{ AccessTerminal }, { TERMINAL_PROTOCOLS }] = await Promise.all([import('./terminal.js'), import('../../drivers/acs/index.js')]);
    return { create: (c, ctx) => new AccessTerminal(c, ctx, TERMINAL_PROTOCOLS[c.vendor]) };
  },
});
