/**
 * The door kind (`type: door`): a lock relay, an optional door contact and exit button. The
 * class is devices/door/door.ts, loaded when a site has a door.
 */
import { z } from 'zod';
import { displayName, pinRef } from '../../schema/sections.js';
import { id, millis, oneOf } from '../../schema/units.js';
import { kind } from '../kind.js';

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
export type DoorConfig = z.output<typeof door>;

export const DOOR_STATES = ['locked', 'unlocked'] as const;
export type DoorState = (typeof DOOR_STATES)[number];

export const DOOR = kind({
  schema: door,
  pins: (d) => [
    { role: 'lock', direction: 'out', ref: d.lock },
    { role: 'contact', direction: 'in', ref: d.contact },
    { role: 'exitButton', direction: 'in', ref: d.exitButton },
  ],
  lane: false,
  door: true,
  references: null,
  states: DOOR_STATES,
  events: ['door.unlocked', 'door.locked', 'door.opened', 'door.closed', 'door.forced', 'door.held-open'],
  words: {
    'zh-CN': {
      name: '门',
      states: { locked: '已锁', unlocked: '已开锁' },
      actions: { open: '开门', close: '锁门' },
      roles: { lock: '门锁', contact: '门磁', exitButton: '出门按钮' },
    },
    en: {
      name: 'door',
      states: { locked: 'locked', unlocked: 'unlocked' },
      actions: { open: 'Unlock', close: 'Lock' },
      roles: { lock: 'lock', contact: 'door contact', exitButton: 'exit button' },
    },
  },
  card: [
    { show: 'word', field: 'door', group: 'doorContact', hideWhen: ['unknown'] },
    { show: 'badge', field: 'alarm', group: 'doorAlarm' },
  ],
  health: null,
  doctor: null,
  push: null,
  load: async () => {
    const { Door } = await import('./door.js');
    return { create: (c, ctx) => new Door(c, ctx) };
  },
});
