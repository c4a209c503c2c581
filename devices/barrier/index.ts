/**
 * The barrier kind (`type: barrier`, 道闸): pulsed OPEN and CLOSE contacts and a safety loop. A
 * lane: cameras and readers may open it. The class is devices/barrier/barrier.ts.
 */
import { z } from 'zod';
import { displayName, laneDisplay, pinRef } from '../../schema/sections.js';
import { id, millis } from '../../schema/units.js';
import { kind } from '../kind.js';
import { laneDisplayReferences, laneScreenDoctor } from '../lane-display-check.js';

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
  display: laneDisplay.optional().meta({ description: "the lane's LED screen and voice (docs/parking.md)" }),
});
export type BarrierConfig = z.output<typeof barrier>;

export const BARRIER_STATES = ['unknown', 'open', 'closing', 'closed'] as const;
export type BarrierState = (typeof BARRIER_STATES)[number];

export const BARRIER = kind({
  schema: barrier,
  pins: (d) => [
    { role: 'open', direction: 'out', ref: d.open },
    { role: 'close', direction: 'out', ref: d.close },
    { role: 'safetyLoop', direction: 'in', ref: d.safetyLoop },
  ],
  lane: true,
  door: false,
  references: laneDisplayReferences,
  states: BARRIER_STATES,
  events: ['barrier.opened', 'barrier.closed', 'barrier.blocked'],
  words: {
    'zh-CN': {
      name: '道闸',
      states: { unknown: '状态未知', open: '已抬杆', closing: '落杆中', closed: '已落杆' },
      actions: { open: '抬杆', close: '落杆' },
      labels: { last: '上次', screen: '车道屏' },
      roles: { open: '抬杆输出', close: '落杆输出', safetyLoop: '地感' },
    },
    en: {
      name: 'barrier',
      states: { unknown: 'position unknown', open: 'open', closing: 'closing', closed: 'closed' },
      actions: { open: 'Open', close: 'Close' },
      labels: { last: 'last', screen: 'screen' },
      roles: { open: 'OPEN output', close: 'CLOSE output', safetyLoop: 'safety loop' },
    },
  },
  card: [
    { show: 'last-action', field: 'lastAction', label: 'last' },
    { show: 'screen', field: 'display', label: 'screen' },
  ],
  health: null,
  doctor: laneScreenDoctor,
  push: null,
  load: async () => {
    const [{ Barrier }, { displayFor }] = await Promise.all([import('./barrier.js'), import('../lane-display.js')]);
    return { create: (c, ctx, deps) => new Barrier(c, ctx, displayFor(c, ctx, deps.access)) };
  },
});
