/** One readable terminal line per event, for the demo and for `estate-gateway events`. */
import type { GatewayEvent } from '../core/events.js';
import { maskNumber, maskPlate, maskPlatesDeep } from '../core/privacy.js';

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function summary(ev: GatewayEvent): string {
  const d = ev.data as Record<string, unknown>;
  const who = d.user ? ` (${String(d.user)})` : '';
  switch (ev.type) {
    case 'door.unlocked':
      return `by ${String(d.by)}${who}${credential(d)}${d.durationMs ? `, relocks in ${seconds(Number(d.durationMs))}` : ''}${d.extended ? ', extended' : ''}`;
    case 'access.denied':
      return `${String(d.by)} refused: ${String(d.reason)}${credential(d)}${d.door ? ` at ${String(d.door)}` : ''}`;
    case 'door.locked':
      return `by ${String(d.by)}${who}`;
    case 'door.opened':
      return d.locked ? 'while locked' : '';
    case 'door.closed':
      return `after ${seconds(Number(d.openMs))}`;
    case 'door.forced':
      return 'opened while locked, no exit request';
    case 'door.held-open':
      return `open ${seconds(Number(d.openMs))}, limit ${seconds(Number(d.heldOpenMs))}`;
    case 'barrier.opened':
    case 'barrier.closed':
    case 'bollard.lowered':
    case 'bollard.raised':
      return `by ${String(d.by)}${who}`;
    case 'barrier.blocked':
    case 'bollard.blocked':
    case 'bollard.fault':
      return String(d.reason);
    case 'alarm.raised':
      return String(d.kind);
    case 'alarm.cleared':
      return `${String(d.kind)} after ${seconds(Number(d.durationMs))}, ${String(d.changes)} changes`;
    case 'vehicle.entry':
    case 'vehicle.exit': {
      const fee = d.feeCents !== undefined ? `, ${(Number(d.feeCents) / 100).toFixed(2)} yuan` : '';
      const stay = d.durationSec !== undefined ? `, stayed ${Math.round(Number(d.durationSec) / 60)} min` : '';
      const plate = d.plate === 'unknown' ? 'no plate' : maskPlate(String(d.plate));
      const cls = d.class !== undefined ? `, ${String(d.class)}${d.chargedAs ? ` charged as ${String(d.chargedAs)}` : ''}` : '';
      return `${plate} ${String(d.decision)} (${String(d.reason)}${cls})${stay}${fee}`;
    }
    case 'vehicle.decided':
      return `${maskPlate(String(d.plate))} ${String(d.decision)} by ${String(d.by)}${who}`;
    case 'meter.reading': {
      // a line, not the whole register map: power, energy and voltage first, then how many more
      const values = Object.entries((d.values ?? {}) as Record<string, number>);
      const rank = (name: string) => ['powerW', 'energyImportKwh', 'voltageV', 'voltageL1V'].indexOf(name) >>> 0;
      const shown = [...values].sort((a, b) => rank(a[0]) - rank(b[0])).slice(0, 3);
      const flags = Array.isArray(d.flags) && d.flags.length ? ` FLAGGED ${d.flags.join(', ')}` : '';
      return `${shown.map(([k, v]) => `${k}=${v}`).join(' ')}${values.length > 3 ? ` (+${values.length - 3} more)` : ''}${flags}`;
    }
    case 'fire-alarm.raised':
      return 'every door and lane released';
    case 'fire-alarm.cleared':
      return `after ${seconds(Number(d.durationMs))}`;
    default:
      return Object.keys(d).length ? JSON.stringify(maskPlatesDeep(d)) : '';
  }
}

/** Who a credential was, as logs show it: pass ids in full, card and person numbers masked. */
function credential(d: Record<string, unknown>): string {
  const bits: string[] = [];
  if (d.pass !== undefined) bits.push(`pass ${String(d.pass)}${d.remainingUses !== undefined ? `, ${String(d.remainingUses)} uses left` : ''}`);
  if (d.method !== undefined) bits.push(String(d.method));
  if (d.card !== undefined) bits.push(`card ${maskNumber(String(d.card))}`);
  if (d.person !== undefined) bits.push(`person ${maskNumber(String(d.person))}`);
  if (d.reader !== undefined) bits.push(`at ${String(d.reader)}`);
  return bits.length ? ` (${bits.join(', ')})` : '';
}

const ALERT = /forced|held-open|fire-alarm.raised|fault|blocked|alarm.raised|dropped|access.denied/;
const GOOD = /unlocked|opened|lowered|recovered|started/;

export function formatEvent(ev: GatewayEvent, color = false): string {
  const time = ev.time.slice(11, 23);
  const line = `${time}  ${ev.device.padEnd(16)} ${ev.type.padEnd(18)} ${summary(ev)}`.trimEnd();
  if (!color) return line;
  const code = ALERT.test(ev.type) ? '31;1' : GOOD.test(ev.type) ? '32' : '0';
  return `\u001b[${code}m${line}\u001b[0m`;
}
