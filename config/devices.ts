/**
 * Device entries of a site config. Every device kind the contract names is here, including those
 * whose runtime lands in later issues, so that a site file is validated whole from day one.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { id, intRange, millis, nonEmpty, oneOf, ref } from './units.js';

export const PIN_EXPECTED = 'expected an integer pin number';

/** `{ io, pin, activeLow? }`: a pin on an I/O board. Its range depends on the board (cross-check). */
export const pinRef = z
  .strictObject({
    io: ref,
    pin: z.int({ error: PIN_EXPECTED }).min(0, { error: PIN_EXPECTED }).max(1023, { error: PIN_EXPECTED }),
    activeLow: z.boolean({ error: 'expected true or false' }).default(false),
    debounceMs: millis(0, 10_000).optional().meta({ description: 'inputs only: ignore changes shorter than this' }),
  })
  .meta({ description: 'A pin on an I/O board: { io, pin, activeLow? }' });
export type PinRef = z.output<typeof pinRef>;

const displayName = z.string({ error: 'expected a string' }).max(100).optional();

export const LOCK_TYPES = ['fail-secure', 'fail-safe'] as const;
export const door = z.strictObject({
  id,
  type: z.literal('door'),
  name: displayName,
  lock: pinRef.meta({ description: 'lock relay output' }),
  lockType: oneOf(LOCK_TYPES).meta({
    description: 'fail-secure: strike, energise to unlock; fail-safe: maglock, energise to lock',
  }),
  contact: pinRef.optional().meta({ description: 'door contact input, reads 1 when the door is open' }),
  exitButton: pinRef.optional().meta({ description: 'request-to-exit input, reads 1 while pressed' }),
  unlockMs: millis(200, 255_000).default(5000),
  heldOpenMs: millis(1000, 3_600_000).default(30_000),
});

export const barrier = z.strictObject({
  id,
  type: z.literal('barrier'),
  name: displayName,
  open: pinRef.meta({ description: 'OPEN contact output, pulsed' }),
  close: pinRef.optional().meta({ description: 'CLOSE contact output, pulsed; omit for auto-closing arms' }),
  safetyLoop: pinRef.optional().meta({ description: 'loop detector input, reads 1 while a vehicle is present' }),
  pulseMs: millis(100, 5000).default(500),
  travelMs: millis(500, 30_000).default(4000).meta({
    description: 'time the arm takes to come down; a vehicle on the loop in this time reopens it',
  }),
  autoClose: z.boolean({ error: 'expected true or false' }).default(true).meta({
    description: 'with a close output: close once a vehicle has passed and the loop has been clear for autoCloseDelayMs',
  }),
  autoCloseDelayMs: millis(1000, 600_000).default(1000),
});

export const bollard = z.strictObject({
  id,
  type: z.literal('bollard'),
  name: displayName,
  lower: pinRef.meta({ description: 'LOWER output' }),
  raise: pinRef.meta({ description: 'RAISE output' }),
  safetyLoop: pinRef.meta({ description: 'loop detector input, reads 1 while a vehicle is present' }),
  downLimit: pinRef.optional().meta({ description: 'limit switch input, reads 1 when fully down' }),
  upLimit: pinRef.optional().meta({ description: 'limit switch input, reads 1 when fully up' }),
  travelMs: millis(500, 60_000).default(6000),
  pulseMs: millis(100, 5000).default(500),
});

/** An IPv4/IPv6 address or a CIDR block. */
const addressOrCidr = z.string({ error: 'expected an IP address or CIDR block' }).refine(
  (s) => {
    const [addr, bits, ...rest] = s.split('/');
    const family = isIP(addr ?? '');
    if (family === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
  },
  { error: 'expected an IP address or CIDR block such as 192.168.1.64 or 192.168.1.0/24' },
);

export const CAMERA_VENDORS = ['hikvision', 'dahua', 'vzenith', 'generic'] as const;
export const lprCamera = z.strictObject({
  id,
  type: z.literal('lpr-camera'),
  name: displayName,
  vendor: oneOf(CAMERA_VENDORS),
  direction: oneOf(['in', 'out'] as const),
  lane: ref.meta({ description: 'the barrier or bollard this camera opens' }),
  allowFrom: z
    .array(addressOrCidr, { error: 'expected a list of IP addresses' })
    .min(1, { error: 'expected at least one address the camera pushes from' }),
  trigger: pinRef.optional().meta({ description: 'output pulsed to trigger a capture when the lane loop sees a car' }),
  minConfidence: intRange(0, 100).default(80),
  repeatWindowSec: intRange(0, 600).default(10),
});

export const METER_MODELS = ['sdm120', 'sdm630', 'ddsu666', 'dtsu666', 'custom', 'dlt645'] as const;
/** DL/T 645-2007 values by name (drivers/dlt645/frame.ts has their data identifiers). */
export const DLT645_VALUE_NAMES = [
  'energyImportKwh', 'energyExportKwh', 'voltageL1V', 'voltageL2V', 'voltageL3V', 'currentL1A', 'currentL2A', 'currentL3A', 'powerW', 'powerFactor', 'frequencyHz',
] as const;
/**
 * A DL/T 645 meter number: 12 digits as printed on the meter (leading zeros kept), or the
 * wildcard AAAAAAAAAAAA for a lone meter on its line. YAML reads 000012345678 unquoted as a
 * number; the zeros it drops are put back.
 */
const dltAddress = z.union(
  [
    z.string().regex(/^(\d{12}|[Aa]{12})$/, { error: 'expected the 12-digit meter number, e.g. "000012345678", or AAAAAAAAAAAA' }),
    z.number().int().min(0).max(999_999_999_999).transform((n) => String(n).padStart(12, '0')),
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

export const ALARM_KINDS = ['perimeter', 'smoke', 'gas', 'water', 'panic'] as const;
export const alarmInput = z.strictObject({
  id,
  type: z.literal('alarm-input'),
  name: displayName,
  kind: oneOf(ALARM_KINDS),
  input: pinRef.meta({ description: 'reads 1 while the alarm is active' }),
  clearAfterMs: millis(0, 3_600_000).default(10_000).meta({
    description: 'the input must stay quiet this long before the alarm counts as cleared (one report per episode)',
  }),
});

export const CREDENTIAL_KINDS = ['qr', 'card'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
/**
 * A QR or card reader at a door: a serial (RS485 converter, USB-CDC, Wiegand-to-serial bridge) or
 * a keyboard-mode (USB HID) reader. It reads; the gateway decides (docs/credentials.md).
 */
export const reader = z
  .strictObject({
    id,
    type: z.literal('reader'),
    name: displayName,
    door: ref.optional().meta({ description: 'the door this reader opens (or give lane)' }),
    lane: ref.optional().meta({ description: 'the barrier or bollard this reader opens, e.g. a visitor QR kiosk at a car lane (or give door)' }),
    accepts: z.array(oneOf(CREDENTIAL_KINDS)).min(1).default(['qr', 'card']).meta({ description: 'qr (visitor passes), card (card numbers)' }),
    port: nonEmpty.optional().meta({ description: 'serial reader: its device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...' }),
    baudRate: intRange(1200, 921_600).default(9600),
    keyboard: nonEmpty
      .optional()
      .meta({ description: 'keyboard-mode reader: its input event device, e.g. /dev/input/by-id/usb-...-event-kbd' }),
    buzzer: pinRef.optional().meta({ description: "the reader's buzzer input, pulsed: once for accepted, three times for refused" }),
    led: pinRef.optional().meta({ description: "the reader's green LED input, lit while the door is released for this reader" }),
  })
  .superRefine((r, ctx) => {
    if (r.door === undefined && r.lane === undefined) {
      ctx.addIssue({ code: 'custom', path: ['door'], message: 'required: door (the door this reader opens) or lane (a barrier or bollard)', input: undefined });
    } else if (r.door !== undefined && r.lane !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['lane'], message: 'give either door or lane, not both', input: undefined });
    }
    if (r.port === undefined && r.keyboard === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'required: port (a serial reader) or keyboard (a keyboard-mode reader)', input: undefined });
    } else if (r.port !== undefined && r.keyboard !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keyboard'], message: 'give either port (a serial reader) or keyboard (a keyboard-mode reader), not both', input: undefined });
    }
  });

export const TERMINAL_VENDORS = ['hikvision', 'dahua'] as const;
/** A face or card terminal that decides by itself and pushes its access events (docs/credentials.md). */
export const accessTerminal = z.strictObject({
  id,
  type: z.literal('access-terminal'),
  name: displayName,
  vendor: oneOf(TERMINAL_VENDORS),
  allowFrom: z
    .array(addressOrCidr, { error: 'expected a list of IP addresses' })
    .min(1, { error: 'expected at least one address the terminal pushes from' }),
});

export type PinDirection = 'in' | 'out';

/** A pin a device uses, by its role in the device's config. */
export interface PinRole {
  role: string;
  direction: PinDirection;
  ref: PinRef | undefined;
}

/**
 * What the config knows of each device kind, in one place: its schema, the pins it uses (for
 * the pin planner, the cross-checks and the I/O page) and whether a camera may name it as its
 * lane. The runtime half of a kind (the class, its states and events) is in devices/kinds.ts;
 * adding a kind is an entry here, an entry there, and the kind's own file.
 */
export const DEVICE_KINDS = {
  door: { schema: door, lane: false, pins: (d: z.output<typeof door>): PinRole[] => [
    { role: 'lock', direction: 'out', ref: d.lock }, { role: 'contact', direction: 'in', ref: d.contact }, { role: 'exitButton', direction: 'in', ref: d.exitButton },
  ] },
  barrier: { schema: barrier, lane: true, pins: (d: z.output<typeof barrier>): PinRole[] => [
    { role: 'open', direction: 'out', ref: d.open }, { role: 'close', direction: 'out', ref: d.close }, { role: 'safetyLoop', direction: 'in', ref: d.safetyLoop },
  ] },
  bollard: { schema: bollard, lane: true, pins: (d: z.output<typeof bollard>): PinRole[] => [
    { role: 'lower', direction: 'out', ref: d.lower }, { role: 'raise', direction: 'out', ref: d.raise }, { role: 'safetyLoop', direction: 'in', ref: d.safetyLoop },
    { role: 'downLimit', direction: 'in', ref: d.downLimit }, { role: 'upLimit', direction: 'in', ref: d.upLimit },
  ] },
  'lpr-camera': { schema: lprCamera, lane: false, pins: (d: z.output<typeof lprCamera>): PinRole[] => [{ role: 'trigger', direction: 'out', ref: d.trigger }] },
  meter: { schema: meter, lane: false, pins: (): PinRole[] => [] },
  'alarm-input': { schema: alarmInput, lane: false, pins: (d: z.output<typeof alarmInput>): PinRole[] => [{ role: 'input', direction: 'in', ref: d.input }] },
  reader: { schema: reader, lane: false, pins: (d: z.output<typeof reader>): PinRole[] => [
    { role: 'buzzer', direction: 'out', ref: d.buzzer }, { role: 'led', direction: 'out', ref: d.led },
  ] },
  'access-terminal': { schema: accessTerminal, lane: false, pins: (): PinRole[] => [] },
} as const;

export const DEVICE_TYPES = Object.keys(DEVICE_KINDS) as Array<keyof typeof DEVICE_KINDS>;
export const device = z.discriminatedUnion('type', [door, barrier, bollard, lprCamera, meter, alarmInput, reader, accessTerminal]);

export type DeviceConfig = z.output<typeof device>;
export type DoorConfig = z.output<typeof door>;
export type BarrierConfig = z.output<typeof barrier>;
export type BollardConfig = z.output<typeof bollard>;
export type LprCameraConfig = z.output<typeof lprCamera>;
export type MeterConfig = z.output<typeof meter>;
export type AlarmInputConfig = z.output<typeof alarmInput>;
export type ReaderConfig = z.output<typeof reader>;
export type AccessTerminalConfig = z.output<typeof accessTerminal>;
export type DeviceType = DeviceConfig['type'];

/** The pins of any device, by its kind's entry. */
export function devicePins(d: DeviceConfig): PinRole[] {
  return (DEVICE_KINDS[d.type].pins as (c: DeviceConfig) => PinRole[])(d);
}

/** Whether a device of this type is a lane (a barrier or a bollard: a camera may open it). */
export const isLaneType = (type: string): boolean => (DEVICE_KINDS as Record<string, { lane: boolean }>)[type]?.lane === true;

