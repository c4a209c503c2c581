/**
 * The meter kind (`type: meter`): an electricity meter on a Modbus bus (built-in register maps or
 * `custom` registers) or a DL/T 645-2007 meter on an RS485 line, polled every `intervalSec`. The
 * class is devices/meter/meter.ts; its doctor checks are devices/meter/doctor.ts.
 */
import { z } from 'zod';
import { displayName } from '../../schema/sections.js';
import { id, intRange, oneOf, ref } from '../../schema/units.js';
import { GatewayError } from '../../core/errors.js';
import { kind } from '../kind.js';

export const METER_MODELS = ['sdm120', 'sdm630', 'ddsu666', 'dtsu666', 'custom', 'dlt645'] as const;
/** DL/T 645-2007 values by name (drivers/dlt645/frame.ts has their data identifiers). */
export const DLT645_VALUE_NAMES = [
  'energyImportKwh',
  'energyExportKwh',
  'voltageL1V',
  'voltageL2V',
  'voltageL3V',
  'currentL1A',
  'currentL2A',
  'currentL3A',
  'powerW',
  'powerFactor',
  'frequencyHz',
] as const;
/** The DL/T 645 address every meter on a line answers: only for a lone meter. */
export const DLT645_WILDCARD = 'AAAAAAAAAAAA';
/**
 * A DL/T 645 meter number: 12 digits as printed on the meter (leading zeros kept), or the
 * wildcard AAAAAAAAAAAA for a lone meter on its line. YAML reads 000012345678 unquoted as a
 * number; the zeros it drops are put back.
 */
const dltAddress = z.union(
  [
    z.string().regex(/^(\d{12}|[Aa]{12})$/, { error: 'expected the 12-digit meter number, e.g. "000012345678", or AAAAAAAAAAAA' }),
    z
      .number()
      .int()
      .min(0)
      .max(999_999_999_999)
      .transform((n) => String(n).padStart(12, '0')),
  ],
  { error: 'expected the 12-digit meter number, e.g. "000012345678", or AAAAAAAAAAAA' },
);
export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
const valueName = z
  .string({ error: 'expected a value name' })
  .regex(/^[a-z][A-Za-z0-9]*$/, { error: 'expected a camelCase value name with its unit, e.g. powerW' });

export const meterRegister = z.strictObject({
  name: valueName,
  address: intRange(0, 65535),
  function: z.union([z.literal(3), z.literal(4)], { error: 'expected 3 (holding) or 4 (input)' }).default(3),
  type: oneOf(REGISTER_TYPES).default('uint16'),
  wordOrder: oneOf(WORD_ORDERS).default('ABCD'),
  scale: z.number({ error: 'expected a number' }).default(1),
  unit: z.string().max(16).optional(),
});

export const meter = z.strictObject({
  id,
  type: z.literal('meter'),
  name: displayName,
  model: oneOf(METER_MODELS),
  bus: ref,
  unit: intRange(1, 247, 'Modbus unit id').optional().meta({ description: 'Modbus meters (every model but dlt645)' }),
  address: dltAddress.optional().meta({ description: 'dlt645 meters: the 12-digit meter number' }),
  values: z
    .array(oneOf(DLT645_VALUE_NAMES))
    .min(1)
    .optional()
    .meta({ description: 'dlt645 meters: what to read (default energyImportKwh, voltageL1V, currentL1A, powerW)' }),
  intervalSec: intRange(1, 86_400).default(60),
  function: z
    .union([z.literal(3), z.literal(4)], { error: 'expected 3 (holding) or 4 (input)' })
    .optional()
    .meta({ description: "built-in models: read the template's registers with this function code instead (DDSU666 units answer FC04 or FC03 by firmware)" }),
  registers: z.array(meterRegister).min(1).optional().meta({ description: 'custom meters only' }),
  readable: z
    .array(z.strictObject({ function: z.union([z.literal(3), z.literal(4)], { error: 'expected 3 or 4' }), from: intRange(0, 65535), to: intRange(0, 65535) }))
    .optional()
    .meta({ description: 'custom meters: address ranges known to exist, so a read may span the gaps between listed registers' }),
  maxEnergyJumpKwh: z.number({ error: 'expected a number' }).positive().default(100).meta({
    description: 'an energy total that grows more than this between two readings is flagged',
  }),
  addressOverrides: z
    .record(valueName, intRange(0, 65535))
    .optional()
    .meta({ description: 'move a template value to another register, e.g. dtsu666 energyImportKwh: 0x101E' }),
});
export type MeterConfig = z.output<typeof meter>;

/** Whether a device entry is a meter's. */
export const isMeterConfig = (d: { type: string }): d is MeterConfig => d.type === 'meter';

/** A meter's entry in /api/health (`meters`). */
export interface MeterHealth {
  state: 'ok' | 'waiting';
  readAt: string | null;
  fault: string | null;
}

export const METER_STATES = ['ok', 'waiting'] as const;
export type MeterState = (typeof METER_STATES)[number];

export const METER = kind({
  schema: meter,
  pins: () => [],
  lane: false,
  door: false,
  references: (d, at, check) => {
    const bus = check.bus(d.bus, `${at}.bus`);
    if (d.model === 'dlt645') {
      if (d.address === undefined) check.problem(`${at}.address`, 'required for model dlt645 (the 12-digit meter number)');
      else if (bus) {
        // The wildcard is answered by every meter on the line: it only suits a lone DL/T 645 meter.
        const mine = d.address.toUpperCase();
        const others = check.claims(`dlt645 ${d.bus}`);
        const clash = [...others].find(([address]) => address === mine || address === DLT645_WILDCARD || mine === DLT645_WILDCARD);
        if (clash)
          check.problem(`${at}.address`, `meter ${d.address} on bus ${d.bus} clashes with ${clash[1]} (${clash[0]}); the wildcard only suits a lone meter`);
        if (!others.has(mine)) others.set(mine, at);
      }
      if (d.unit !== undefined) check.problem(`${at}.unit`, 'only for Modbus meters; a dlt645 meter has an address');
      if (bus && bus.type !== 'rtu') check.problem(`${at}.bus`, `bus "${d.bus}" is ${bus.type}; DL/T 645 meters need an RS485 (rtu) bus`);
    } else {
      if (d.unit === undefined) check.problem(`${at}.unit`, `required for model ${d.model} (the Modbus unit id)`);
      else if (bus) check.unit(d.bus, d.unit, at);
      if (d.address !== undefined) check.problem(`${at}.address`, 'only for dlt645 meters');
      if (d.values !== undefined) check.problem(`${at}.values`, 'only for dlt645 meters');
    }
    if (d.model === 'custom' && !d.registers) check.problem(`${at}.registers`, 'required for model custom');
    if ((d.model === 'custom' || d.model === 'dlt645') && d.function !== undefined) {
      check.problem(`${at}.function`, `only for built-in Modbus models (${d.model === 'custom' ? 'set function on each register' : 'dlt645 is not Modbus'})`);
    }
    if (d.model !== 'custom' && d.registers) check.problem(`${at}.registers`, `only for model custom (${d.model} has a built-in register map)`);
    const names = new Set<string>();
    d.registers?.forEach((r, j) => {
      if (names.has(r.name)) check.problem(`${at}.registers[${j}].name`, `duplicate value name "${r.name}"`);
      names.add(r.name);
    });
  },
  states: METER_STATES,
  events: ['meter.reading'],
  words: {
    'zh-CN': { name: '电表', states: { ok: '正常', waiting: '等待读数' }, labels: { noReading: '尚无读数' } },
    en: { name: 'meter', states: { ok: 'ok', waiting: 'waiting for a reading' }, labels: { noReading: 'no reading yet' } },
  },
  card: [{ show: 'values', field: 'values', label: 'noReading' }],
  health: { group: 'meters', always: true },
  doctor: async (meters, ctx) => (await import('./doctor.js')).meterChecks(meters, ctx),
  push: null,
  load: async () => {
    const { Meter } = await import('./meter.js');
    return {
      create: (c, ctx, deps) => {
        const bus = deps.buses.get(c.bus);
        if (!bus) throw new GatewayError('DEVICE_UNSUPPORTED', `device ${c.id}: no bus ${c.bus}`, { device: c.id });
        // Where in its interval it is polled (0 <= phase < 1): a bus's meters spread evenly over it.
        const peers = deps.siteDevices.filter((d): d is MeterConfig => d.type === 'meter' && (d as MeterConfig).bus === c.bus);
        return new Meter(c, {
          ...ctx,
          bus,
          phase:
            Math.max(
              0,
              peers.findIndex((p) => p.id === c.id),
            ) / Math.max(1, peers.length),
        });
      },
    };
  },
});
