/**
 * The alarm input kind (`type: alarm-input`): a perimeter, smoke, gas, water or panic input,
 * reported once per episode. The class is devices/alarm-input/alarm-input.ts.
 */
import { z } from 'zod';
import { displayName, pinRef } from '../../schema/sections.js';
import { id, millis, oneOf } from '../../schema/units.js';
import { kind } from '../kind.js';

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
export type AlarmInputConfig = z.output<typeof alarmInput>;

export const ALARM_INPUT_STATES = ['normal', 'alarm'] as const;
export type AlarmInputState = (typeof ALARM_INPUT_STATES)[number];

export const ALARM_INPUT = kind({
  schema: alarmInput,
  pins: (d) => [{ role: 'input', direction: 'in', ref: d.input }],
  lane: false,
  door: false,
  references: null,
  states: ALARM_INPUT_STATES,
  events: ['alarm.raised', 'alarm.cleared'],
  words: {
    'zh-CN': { name: '报警输入', states: { normal: '正常', alarm: '报警中' }, roles: { input: '报警输入' } },
    en: { name: 'alarm input', states: { normal: 'normal', alarm: 'in alarm' }, roles: { input: 'alarm input' } },
  },
  card: [{ show: 'word', field: 'kind', group: 'alarmKinds' }],
  health: null,
  doctor: null,
  push: null,
  load: async () => {
    const { AlarmInput } = await import('./alarm-input.js');
    return { create: (c, ctx) => new AlarmInput(c, ctx) };
  },
});
