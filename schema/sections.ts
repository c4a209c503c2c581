/**
 * The parts of the site file that are not devices: I/O boards, Modbus buses, the broker, the
 * access lists, and the building blocks device kinds use in their own schemas (a pin reference,
 * an address list, a display name). config/schema.ts puts them and every kind's schema together.
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

/** A device's name as staff read it. */
export const displayName = z.string({ error: 'expected a string' }).max(100).optional();

/** An IPv4/IPv6 address or a CIDR block. */
export const addressOrCidr = z.string({ error: 'expected an IP address or CIDR block' }).refine(
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

export const CREDENTIAL_KINDS = ['qr', 'card'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export type PinDirection = 'in' | 'out';

/** A pin a device uses, by its role in the device's config. */
export interface PinRole {
  role: string;
  direction: PinDirection;
  ref: PinRef | undefined;
}

/** Upper pin number per board type; `modbus-relay` is bounded by its `channels` instead. */
export const BOARD_PIN_RANGES = {
  gpio: { min: 0, max: 27 }, // BCM numbers on the 40-pin header
  firmata: { min: 0, max: 69 }, // Arduino Mega: 54 digital + 16 analog pins
  sim: { min: 0, max: 255 },
} as const;

const gpioBoard = z.strictObject({
  id,
  type: z.literal('gpio'),
  chipLabel: z.string().optional().meta({
    description: 'label of the main GPIO controller in /sys/class/gpio/gpiochip*/label; detected when omitted',
  }),
});
const firmataBoard = z.strictObject({
  id,
  type: z.literal('firmata'),
  port: nonEmpty.meta({ description: 'serial device, e.g. /dev/ttyACM0' }),
  baudRate: intRange(1200, 1_000_000).default(57_600),
});
const modbusRelayBoard = z.strictObject({
  id,
  type: z.literal('modbus-relay'),
  bus: ref,
  unit: intRange(1, 247, 'Modbus unit id'),
  channels: intRange(1, 64).default(8),
  pollMs: millis(50, 60_000).default(200).meta({ description: 'how often inputs are read' }),
});
const simStep = z.strictObject({
  at: intRange(0, 86_400_000, 'ms after the board opens'),
  pin: z.int({ error: 'expected an integer pin number' }).min(0).max(255),
  value: z.union([z.literal(0), z.literal(1)], { error: 'expected 0 or 1' }),
  note: z.string().max(200).optional().meta({ description: 'what this step stands for, shown by the demo' }),
});
const simBoard = z.strictObject({
  id,
  type: z.literal('sim'),
  traceFile: z.string().optional().meta({
    description: 'append every pin change as a JSON line to this file (for tests and demonstrations)',
  }),
  script: z
    .strictObject({
      steps: z.array(simStep).min(1),
      repeatMs: millis(1000, 86_400_000).optional().meta({ description: 'replay the steps with this period' }),
    })
    .optional()
    .meta({ description: 'input changes the board plays by itself: a person at a door, a car on a loop' }),
});
export const IO_TYPES = ['gpio', 'firmata', 'modbus-relay', 'sim'] as const;
export const ioBoard = z.discriminatedUnion('type', [gpioBoard, firmataBoard, modbusRelayBoard, simBoard]);

const busCommon = {
  id,
  timeoutMs: millis(50, 30_000).default(1000),
  retries: intRange(0, 10).default(3),
};
const rtuBus = z.strictObject({
  ...busCommon,
  type: z.literal('rtu'),
  port: nonEmpty.meta({ description: 'serial device, e.g. /dev/ttyUSB0' }),
  baudRate: z
    .union([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].map((b) => z.literal(b)) as [z.ZodLiteral<number>, ...z.ZodLiteral<number>[]], {
      error: 'expected one of 1200|2400|4800|9600|19200|38400|57600|115200',
    })
    .default(9600),
  parity: oneOf(['none', 'even', 'odd'] as const).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)], { error: 'expected 1 or 2' }).default(1),
  dataBits: z.union([z.literal(7), z.literal(8)], { error: 'expected 7 or 8' }).default(8),
});
const tcpBus = z.strictObject({
  ...busCommon,
  type: z.literal('tcp'),
  host: nonEmpty,
  port: intRange(1, 65535).default(502),
});
export const BUS_TYPES = ['rtu', 'tcp'] as const;
export const bus = z.discriminatedUnion('type', [rtuBus, tcpBus]);

const mqttUrl = z
  .string({ error: 'expected a broker URL' })
  .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+/, { error: 'expected a broker URL such as mqtt://host:1883 or mqtts://host:8883' });

export const mqtt = z
  .strictObject({
    url: mqttUrl.optional(),
    urls: z.array(mqttUrl).min(1, { error: 'expected at least one broker URL' }).optional(),
    clientId: z.string().min(1).max(128).optional().meta({ description: 'default: the gateway id (unique per broker)' }),
    username: z.string().optional(),
    passwordFile: nonEmpty.optional().meta({ description: 'file whose first line is the broker password' }),
    tls: z
      .strictObject({
        ca: nonEmpty.optional(),
        cert: nonEmpty.optional(),
        key: nonEmpty.optional(),
        rejectUnauthorized: z.boolean({ error: 'expected true or false' }).default(true),
      })
      .optional(),
    topicPrefix: z
      .string()
      .regex(/^[^#+\s]+[^/#+\s]$/, { error: 'expected a topic prefix without wildcards or a trailing /' })
      .optional()
      .meta({ description: 'default: estate/{site}/{gateway}; may use {tenant}, {site} and {gateway} (also written {site.id}, {gateway.id})' }),
    commandKey: nonEmpty.optional().meta({ description: 'file holding the HMAC-SHA256 key for signed commands' }),
    keepaliveSec: intRange(5, 3600).default(30),
    typeAsLevels: z.boolean({ error: 'expected true or false' }).default(false).meta({
      description: "P/events/door/unlocked instead of P/events/door.unlocked, for brokers whose MQTT cannot carry a '.' in a topic (NATS before 2.10)",
    }),
    protocolVersion: z.union([z.literal(4), z.literal(5)], { error: 'expected 4 (MQTT 3.1.1) or 5' }).default(5),
  })
  .superRefine((m, ctx) => {
    if (m.url === undefined && m.urls === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required (give url or urls)', input: undefined });
    } else if (m.url !== undefined && m.urls !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['urls'], message: 'give either url or urls, not both', input: m.urls });
    }
  });

/** A listed car's class (CONTRACT 8); a car not listed is temporary (临时车). */
export const VEHICLE_CLASSES = ['monthly', 'owner', 'free', 'blocked'] as const;
export type VehicleClass = (typeof VEHICLE_CLASSES)[number] | 'temporary';

export const plateEntry = z.strictObject({
  plate: z.string({ error: 'expected a plate number' }).min(2, { error: 'expected a plate number' }).max(16),
  lanes: z.array(ref).optional().meta({ description: 'lanes this plate may use; all lanes when omitted' }),
  until: z
    .string({ error: 'expected a date such as 2027-12-31' })
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, {
      error: 'expected a date such as 2027-12-31 or 2027-12-31T18:00:00+08:00',
    })
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected a real calendar date' })
    .optional(),
  name: z.string().max(100).optional(),
  class: oneOf(VEHICLE_CLASSES).optional().meta({
    description:
      'monthly (月租车, until its `until`), owner (业主车, own space), free (免费车: VIP, emergency), blocked (黑名单); default: monthly with `until`, else owner',
  }),
  group: z
    .string({ error: 'expected a household name or number' })
    .min(1)
    .max(64)
    .optional()
    .meta({ description: "a household (e.g. '3-1-502'): its plates share the group's spaces (一位多车)" }),
  spaces: intRange(0, 50)
    .optional()
    .meta({ description: 'spaces the household owns; of its cars inside at once, those beyond this many are temporary from their entry and pay' }),
});

const dateOrTime = (what: string) =>
  z
    .string({ error: `expected a date such as 2027-12-31` })
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, {
      error: `expected a date such as 2027-12-31 or 2027-12-31T18:00:00+08:00`,
    })
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected a real calendar date' })
    .meta({ description: what });
const clockTime = z.string({ error: 'expected a time such as 07:30' }).regex(/^([01]\d|2[0-4]):[0-5]\d$/, { error: 'expected a time such as 07:30 (24-hour)' });

/** A resident's card: its number as the reader gives it, where and when it opens. */
export const cardEntry = z.strictObject({
  card: z
    .string({ error: 'expected a card number' })
    .regex(/^[0-9A-Fa-f][0-9A-Fa-f :-]{0,30}$/, { error: 'expected a card number (decimal or hex digits, as the reader gives it)' }),
  doors: z.array(ref).optional().meta({ description: 'doors (or lanes) this card opens; every one with a reader when omitted' }),
  from: dateOrTime('valid from (a bare date: from midnight)').optional(),
  until: dateOrTime('valid until (a bare date: to the end of that day)').optional(),
  schedule: z
    .array(
      z.strictObject({
        days: z.array(z.int({ error: 'expected 1 (Monday) to 7 (Sunday)' }).min(1).max(7)).min(1),
        from: clockTime,
        to: clockTime,
      }),
    )
    .optional()
    .meta({ description: "weekly windows in the gateway's local time, e.g. { days: [1,2,3,4,5], from: '07:00', to: '19:00' }; any time when omitted" }),
  name: z.string().max(100).optional(),
});

export const VISITOR_POLICIES = ['deny', 'record', 'ask'] as const;
/** What to do with an entry of a car already inside, or an exit of one never seen entering. */
export const PASSBACK_POLICIES = ['allow', 'refuse', 'ask'] as const;

/** A car park: its spaces for temporary cars and the lanes that count cars in and out. */
export const carPark = z.strictObject({
  id,
  name: displayName,
  capacity: intRange(0, 100_000).meta({ description: 'spaces for temporary cars (owners and monthly cars have their own)' }),
  lanes: z
    .array(ref)
    .min(1, { error: 'expected at least one lane' })
    .meta({ description: 'the barriers and bollards whose cameras count cars in and out of it' }),
});

/** What a lane screen shows and says for one outcome: up to four lines and a voice text, with {placeholders}. */
export const screenMessage = z.strictObject({
  lines: z.array(z.string({ error: 'expected a line of text' }).max(64)).max(4, { error: 'a screen shows at most 4 lines' }),
  voice: z.string({ error: 'expected a text to speak' }).max(64).optional(),
});
export const SCREEN_OUTCOMES = ['welcome', 'renew', 'expired', 'refused', 'full', 'wait', 'goodbye', 'pay', 'idle'] as const;
export type ScreenOutcome = (typeof SCREEN_OUTCOMES)[number];

export const screen = z.strictObject({
  language: oneOf(['zh-CN', 'en'] as const)
    .default('zh-CN')
    .meta({ description: 'the language of the built-in messages' }),
  renewDays: intRange(0, 365).default(30).meta({ description: 'a monthly car is reminded to renew this many days before its `until`' }),
  dwellSec: intRange(1, 255).default(10).meta({ description: 'seconds an outcome stays on the screen before the idle page returns' }),
  messages: z
    .strictObject(Object.fromEntries(SCREEN_OUTCOMES.map((o) => [o, screenMessage.optional()])) as Record<ScreenOutcome, z.ZodOptional<typeof screenMessage>>)
    .prefault({})
    .meta({
      description: 'templates replacing the built-in ones; placeholders {plate} {class} {days} {until} {fee} {duration} {spaces} {reason} {time}',
    }),
});

/**
 * A lane's LED screen with voice: through its camera's RS485 passthrough (`camera`, `channel`) or
 * on a serial port of the gateway (`port`, `baudRate`). docs/parking.md.
 */
export const laneDisplay = z
  .strictObject({
    camera: ref.optional().meta({ description: 'a Vzenith/Alphadigi lpr-camera on this lane whose RS485 port the screen is wired to' }),
    channel: z.union([z.literal(0), z.literal(1)], { error: "expected 0 or 1 (the camera's RS485 port)" }).default(0),
    port: nonEmpty.optional().meta({ description: 'a serial port of the gateway wired to the screen (a USB-RS485 adapter)' }),
    baudRate: intRange(1200, 115_200).default(9600),
    address: intRange(0, 255).default(0).meta({ description: "the screen's address (DA), 0 unless changed on the screen" }),
    lines: intRange(1, 4).default(4).meta({ description: 'text lines the screen has' }),
    width: intRange(4, 32).default(16).meta({
      description: 'half-width cells per line (a Chinese character takes two): 16 on a 128-pixel-wide screen with 16-pixel characters, 8 on a 64-pixel one',
    }),
    voice: z.boolean({ error: 'expected true or false' }).default(true).meta({ description: 'speak the messages (a screen with a voice module)' }),
    spacesPage: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .meta({ description: "show spaces left with the screen's own page (0xE3) instead of the idle text" }),
  })
  .superRefine((d, ctx) => {
    if (d.camera === undefined && d.port === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['camera'],
        message: 'give camera (its RS485 passthrough) or port (a serial port of the gateway)',
        input: undefined,
      });
    } else if (d.camera !== undefined && d.port !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'give either camera or port, not both', input: d.port });
    }
  });
export type LaneDisplayConfig = z.output<typeof laneDisplay>;
export const access = z.strictObject({
  plates: z.array(plateEntry).default([]),
  cards: z.array(cardEntry).default([]).meta({ description: "residents' cards the installer lists; the platform syncs its own (cards.* commands)" }),
  passes: z
    .strictObject({
      publicKey: nonEmpty.meta({ description: "the platform's Ed25519 public key (PEM file) that signs visitor passes" }),
    })
    .optional()
    .meta({ description: 'QR visitor passes, verified offline; without it QR codes are refused' }),
  visitors: oneOf(VISITOR_POLICIES).default('record'),
  askTimeoutSec: intRange(5, 3600).default(120),
  carParks: z
    .array(carPark)
    .default([])
    .meta({ description: 'car parks with a capacity for temporary cars; when full, temporary cars are refused and residents still enter' }),
  passback: z
    .strictObject({
      alreadyInside: oneOf(PASSBACK_POLICIES)
        .default('allow')
        .meta({ description: 'an entry of a car already inside (its exit was missed, or a shared plate): allow and flag, refuse, or ask staff' }),
      neverEntered: oneOf(PASSBACK_POLICIES)
        .default('allow')
        .meta({ description: 'an exit of a car never seen entering: allow and flag, refuse, or ask staff' }),
    })
    .prefault({}),
  screen: screen.prefault({}).meta({ description: 'what lane screens show and say (lanes with a display)' }),
  tariff: z
    .strictObject({
      freeMinutes: intRange(0, 1440).default(0),
      perHourCents: intRange(0, 1_000_000),
      dailyCapCents: intRange(0, 100_000_000).optional(),
    })
    .optional(),
});

/** `host:port`, `:port`, `[v6]:port` or a bare port. */
export const LISTEN_PATTERN = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/;

export type IoBoardConfig = z.output<typeof ioBoard>;
export type BusConfig = z.output<typeof bus>;
export type MqttConfig = z.output<typeof mqtt>;
export type AccessConfig = z.output<typeof access>;
export type CarParkConfig = z.output<typeof carPark>;
export type ScreenConfig = z.output<typeof screen>;
export type ScreenMessage = z.output<typeof screenMessage>;
export type IoType = IoBoardConfig['type'];

export interface PinRange {
  min: number;
  max: number;
}

interface RawBoard {
  id?: unknown;
  type?: unknown;
  channels?: unknown;
}

/** The valid pin range of a board entry, raw (unvalidated) or parsed. */
export function boardPinRange(board: RawBoard): PinRange | undefined {
  if (board.type === 'modbus-relay') {
    const channels = typeof board.channels === 'number' && Number.isInteger(board.channels) ? board.channels : 8;
    return { min: 1, max: channels };
  }
  if (typeof board.type === 'string' && board.type in BOARD_PIN_RANGES) {
    return BOARD_PIN_RANGES[board.type as keyof typeof BOARD_PIN_RANGES];
  }
  return undefined;
}

/** The pin range for a pin reference `{ io, pin }` within a raw config, when its board is known. */
export function pinRangeFor(rawConfig: unknown, rawPinRef: unknown): PinRange | undefined {
  if (!rawPinRef || typeof rawPinRef !== 'object') return undefined;
  const io = (rawPinRef as { io?: unknown }).io;
  const boards = (rawConfig as { io?: unknown } | null)?.io;
  if (!Array.isArray(boards)) return undefined;
  const board = boards.find((b): b is RawBoard => !!b && typeof b === 'object' && (b as RawBoard).id === io);
  return board ? boardPinRange(board) : undefined;
}
