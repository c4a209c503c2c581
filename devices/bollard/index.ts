/**
 * The bollard kind (`type: bollard`, 升降柱): LOWER and RAISE outputs, a safety loop that must
 * be clear before it rises, optional limit switches. A lane. The class is devices/bollard/bollard.ts.
 */
import { z } from 'zod';
import { displayName, laneDisplay, pinRef } from '../../schema/sections.js';
import { id, millis } from '../../schema/units.js';
import { kind } from '../kind.js';
import { laneDisplayReferences, laneScreenDoctor } from '../lane-display-check.js';

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
  display: laneDisplay.optional().meta({ description: "the lane's LED screen and voice (docs/parking.md)" }),
});
export type BollardConfig = z.output<typeof bollard>;

export const BOLLARD_STATES = ['unknown', 'up', 'down', 'raising', 'lowering'] as const;
export type BollardState = (typeof BOLLARD_STATES)[number];

export const BOLLARD = kind({
  schema: bollard,
  pins: (d) => [
    { role: 'lower', direction: 'out', ref: d.lower },
    { role: 'raise', direction: 'out', ref: d.raise },
    { role: 'safetyLoop', direction: 'in', ref: d.safetyLoop },
    { role: 'downLimit', direction: 'in', ref: d.downLimit },
    { role: 'upLimit', direction: 'in', ref: d.upLimit },
  ],
  lane: true,
  door: false,
  references: laneDisplayReferences,
  states: BOLLARD_STATES,
  events: ['bollard.lowered', 'bollard.raised', 'bollard.blocked', 'bollard.fault'],
  words: {
    'zh-CN': {
      name: '升降柱',
      states: { unknown: '状态未知', up: '已升起', down: '已降下', raising: '上升中', lowering: '下降中' },
      actions: { open: '降柱', close: '升柱' },
      labels: { screen: '车道屏' },
      roles: { lower: '降柱输出', raise: '升柱输出', safetyLoop: '地感', downLimit: '下限位', upLimit: '上限位' },
    },
    en: {
      name: 'bollard',
      states: { unknown: 'position unknown', up: 'up', down: 'down', raising: 'raising', lowering: 'lowering' },
      actions: { open: 'Lower', close: 'Raise' },
      labels: { screen: 'screen' },
      roles: { lower: 'LOWER output', raise: 'RAISE output', safetyLoop: 'safety loop', downLimit: 'down limit', upLimit: 'up limit' },
    },
  },
  card: [{ show: 'screen', field: 'display', label: 'screen' }],
  health: null,
  doctor: laneScreenDoctor,
  push: null,
  load: async () => {
    const [{ Bollard }, { displayFor }] = await Promise.all([import('./bollard.js'), import('../lane-display.js')]);
    return { create: (c, ctx, deps) => new Bollard(c, ctx, displayFor(c, ctx, deps.access)) };
  },
});
