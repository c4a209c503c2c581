/**
 * The doctor's checks of meters: beside a running gateway, what it last read (GET /api/health);
 * otherwise one live read on the bus the doctor opened, decoded, with what to change when the
 * meter refuses or does not answer.
 */
import { withTimeout } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { ModbusBus } from '../../drivers/modbus/types.js';
import type { BusConfig } from '../../schema/sections.js';
import type { Check, DoctorContext } from '../kind.js';
import type { MeterConfig, MeterHealth } from './index.js';
import type { RefusedRead } from './meter.js';

export const meterWhere = (config: MeterConfig) => (config.model === 'dlt645' ? `meter number ${config.address}` : `unit ${config.unit}`);

export async function meterChecks(meters: readonly MeterConfig[], ctx: DoctorContext): Promise<Check[]> {
  const checks: Check[] = [];
  const busConfig = (id: string) => ctx.busConfigs.find((b) => b.id === id);
  if (ctx.health) {
    const seen = ctx.health['meters'] as Record<string, MeterHealth> | undefined;
    for (const d of meters) {
      const m = seen?.[d.id];
      checks.push(
        m && !m.fault && m.readAt
          ? { name: `meter ${d.id}`, result: 'ok', detail: `${d.model} ${meterWhere(d)}, last read ${m.readAt}` }
          : {
              name: `meter ${d.id}`,
              result: 'FAIL',
              detail: `${d.model} ${meterWhere(d)}: ${m?.fault ?? 'no reading yet'}`,
              hint: meterHint(d, busConfig(d.bus)),
            },
      );
    }
    return checks;
  }
  const { meterPlan, readOnce } = await import('./meter.js');
  for (const d of meters) {
    const bus = ctx.buses.get(d.bus);
    if (!bus?.connected) {
      checks.push({ name: `meter ${d.id}`, result: 'FAIL', detail: `bus ${d.bus} is not connected`, hint: `fix bus ${d.bus} first` });
      continue;
    }
    try {
      const { values, refused } = await withTimeout(ctx.clock, `meter ${d.id}`, ctx.timeoutMs * 2, readOnce(bus as ModbusBus, d, meterPlan(d)));
      const shown = Object.entries(values)
        .slice(0, 4)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      if (refused.length === 0) {
        checks.push({ name: `meter ${d.id}`, result: 'ok', detail: `${d.model} ${meterWhere(d)}: ${shown}` });
      } else {
        checks.push({
          name: `meter ${d.id}`,
          result: 'warn',
          detail: `${d.model} ${meterWhere(d)}: ${shown}; refused ${refused.map(refusedText).join(', ')}`,
          hint: refusedHint(d, refused),
        });
      }
    } catch (err) {
      checks.push({ name: `meter ${d.id}`, result: 'FAIL', detail: `${d.model} ${meterWhere(d)}: ${errorMessage(err)}`, hint: meterHint(d, busConfig(d.bus)) });
    }
  }
  return checks;
}

/** `FC04 0x0156-0x0157 (energyTotalKwh, exception 2)` */
function refusedText(r: RefusedRead): string {
  if (!r.read) return `${r.names.join(', ')} (no such data)`;
  const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
  return `FC0${r.read.fc} ${hex(r.read.address)}-${hex(r.read.address + r.read.count - 1)} (${r.names.join(', ')}, exception ${r.exception})`;
}

function refusedHint(d: MeterConfig, refused: RefusedRead[]): string {
  const names = refused.flatMap((r) => r.names);
  if (d.model === 'dlt645') return `this meter has no ${names.join(', ')}: leave them out of values`;
  const fc = refused.find((r) => r.read)?.read?.fc;
  const other = fc === 4 ? 3 : 4;
  const whole = refused.every((r) => r.exception === 1);
  if (whole && d.model !== 'custom') return `the meter does not answer FC0${fc}: set function: ${other} on the meter (DDSU666 units differ)`;
  return `this unit has no such registers: the reading carries the other values and names these as missing; if the meter keeps them elsewhere (see its manual), move them with addressOverrides, e.g. addressOverrides: { ${names[0]}: 0x101E }`;
}

function meterHint(d: MeterConfig, bus: BusConfig | undefined): string {
  const address = d.model === 'dlt645' ? `number is ${d.address} (on its nameplate)` : `address is ${d.unit}`;
  // A meter behind a Modbus TCP gateway has no wiring of its own to check from here.
  if (bus?.type === 'tcp')
    return `check the meter's ${address} (the unit id the TCP gateway ${bus.host}:${bus.port} forwards to), and that the gateway's serial side reaches it`;
  const line = d.model === 'dlt645' ? ' (DL/T 645 meters usually talk 2400 baud, even parity)' : '';
  return `check the meter's ${address}, the baud rate, parity and stop bits match bus ${d.bus}${line}, and A/B are not swapped (swap them and try again)`;
}
