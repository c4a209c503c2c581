/**
 * The reader kind (`type: reader`): a QR or card reader at a door or a lane, serial (RS485
 * converter, USB-CDC, Wiegand-to-serial bridge) or keyboard-mode (USB HID). It reads; the gateway
 * decides (docs/credentials.md). The class is devices/reader/reader.ts; the serial and
 * keyboard-mode sources load with it.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { z } from 'zod';
import { CARD_FORMATS } from '../../access/card-format.js';
import { CREDENTIAL_KINDS, displayName, pinRef } from '../../schema/sections.js';
import { id, intRange, nonEmpty, oneOf, ref } from '../../schema/units.js';
import type { Check } from '../kind.js';
import { kind } from '../kind.js';

export const reader = z
  .strictObject({
    id,
    type: z.literal('reader'),
    name: displayName,
    door: ref.optional().meta({ description: 'the door this reader opens (or give lane)' }),
    lane: ref.optional().meta({ description: 'the barrier or bollard this reader opens, e.g. a visitor QR kiosk at a car lane (or give door)' }),
    accepts: z.array(oneOf(CREDENTIAL_KINDS)).min(1).default(['qr', 'card']).meta({ description: 'qr (visitor passes), card (card numbers)' }),
    cardFormat: oneOf(CARD_FORMATS).default('as-read').meta({
      description: "how it prints a card: decimal, hex, hex-reversed, decimal-reversed, wiegand26; turned into the list's 10-digit form (docs/credentials.md)",
    }),
    port: nonEmpty.optional().meta({ description: 'serial reader: its device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...' }),
    baudRate: intRange(1200, 921_600).default(9600),
    keyboard: nonEmpty.optional().meta({ description: 'keyboard-mode reader: its input event device, e.g. /dev/input/by-id/usb-...-event-kbd' }),
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
      ctx.addIssue({
        code: 'custom',
        path: ['keyboard'],
        message: 'give either port (a serial reader) or keyboard (a keyboard-mode reader), not both',
        input: undefined,
      });
    }
  });
export type ReaderConfig = z.output<typeof reader>;

/** Whether a device entry is a reader's. */
export const isReaderConfig = (d: { type: string }): d is ReaderConfig => d.type === 'reader';

/** A reader's entry in /api/health (`readers`). */
export interface ReaderHealth {
  state: 'waiting' | 'online' | 'offline';
  /** whether its device (serial port, input device) is open */
  open: boolean;
  lastReadAt: string | null;
  /** why it is not open */
  reason?: string;
}

export const READER_STATES = ['waiting', 'online', 'offline'] as const;
export type ReaderState = (typeof READER_STATES)[number];

export const READER = kind({
  schema: reader,
  pins: (d) => [
    { role: 'buzzer', direction: 'out', ref: d.buzzer },
    { role: 'led', direction: 'out', ref: d.led },
  ],
  lane: false,
  door: false,
  references: (d, at, check) => {
    if (d.door !== undefined) check.door(d.door, `${at}.door`);
    if (d.lane !== undefined) check.lane(d.lane, `${at}.lane`);
    if (d.port !== undefined) check.port(d.port, at);
  },
  states: READER_STATES,
  events: ['access.denied'],
  words: {
    'zh-CN': {
      name: '读头',
      states: { waiting: '尚未读到', online: '在线', offline: '读头离线' },
      labels: { door: '门', lane: '车道' },
      roles: { buzzer: '蜂鸣器', led: '指示灯' },
    },
    en: {
      name: 'reader',
      states: { waiting: 'nothing read yet', online: 'online', offline: 'reader offline' },
      labels: { door: 'door', lane: 'lane' },
      roles: { buzzer: 'buzzer', led: 'LED' },
    },
  },
  card: [
    { show: 'device', field: 'door', label: 'door' },
    { show: 'device', field: 'lane', label: 'lane' },
  ],
  health: { group: 'readers', always: false },
  doctor: async (readers, ctx) => {
    const checks: Check[] = [];
    if (!ctx.passKey && readers.some((d) => d.accepts.includes('qr'))) {
      checks.push({
        name: 'pass key',
        result: 'warn',
        detail: 'readers take QR passes but access.passes.publicKey is not set: every pass is refused',
        hint: "set access.passes.publicKey to the platform's visitor-pass public key (PEM file)",
      });
    }
    const seen = ctx.health?.['readers'] as Record<string, ReaderHealth> | undefined;
    for (const d of readers) {
      const where = d.port ?? d.keyboard!;
      const hint = d.port
        ? `plug the reader in and give its stable name (ls -l /dev/serial/by-id/); check baudRate (${d.baudRate}) against the reader's manual`
        : "plug the reader in and give its event device (ls -l /dev/input/by-id/ | grep event-kbd); the service's user needs read access (group input)";
      const r = seen?.[d.id];
      if (!r) {
        let present = true;
        try {
          accessSync(where, fsConstants.R_OK);
        } catch {
          present = false;
        }
        checks.push(
          present
            ? { name: `reader ${d.id}`, result: 'ok', detail: `${where} is there and readable` }
            : { name: `reader ${d.id}`, result: 'FAIL', detail: `${where} is missing or not readable`, hint },
        );
      } else if (!r.open) {
        checks.push({ name: `reader ${d.id}`, result: 'FAIL', detail: `${where}: ${r.reason ?? 'not open'}`, hint });
      } else if (!r.lastReadAt) {
        checks.push({
          name: `reader ${d.id}`,
          result: 'warn',
          detail: `${where} is open but has sent nothing since the gateway started`,
          hint: `show it a card or a pass; if nothing arrives, check its wiring and its output mode (${d.port ? 'serial, ending each read with CR/LF' : 'USB keyboard, Enter after each read'})`,
        });
      } else {
        checks.push({ name: `reader ${d.id}`, result: 'ok', detail: `${where}: last read ${r.lastReadAt}` });
      }
    }
    return checks;
  },
  push: null,
  load: async () => {
    const { Reader } = await import('./reader.js');
    return {
      create: (c, ctx, deps) =>
        new Reader(c, ctx, {
          credentials: deps.credentials,
          target: () => deps.device(c.door ?? c.lane!),
          ...(deps.readerSource ? { source: deps.readerSource } : {}),
        }),
    };
  },
});
