/**
 * Every word the gateway shows a person or a platform as a code, besides what each kind says of
 * itself (its states and buttons: devices/<kind>/index.ts `words`): event types, decisions and
 * their reasons, who moved something, fault codes and refusals. The console translates each
 * (console/i18n.js) and a test fails when one has no translation in either language, so no raw
 * key ever reaches a guard's screen.
 */
import { VEHICLE_REASONS } from '../access/access.js';
import { FAULT_CODES } from '../core/errors.js';
import { VEHICLE_CLASSES } from '../schema/sections.js';
import { ACCESS_REFUSALS, EVENT_TYPES } from '../core/events.js';
import { TERMINAL_METHODS } from '../drivers/acs/index.js';
import { ALARM_KINDS } from './alarm-input/index.js';

export const VOCABULARY = {
  /** a door's contact (`door`) and what is wrong with it (`alarm`) */
  doorContact: ['open', 'closed', 'unknown'],
  doorAlarm: ['forced', 'held-open'],
  events: EVENT_TYPES,
  decisions: ['granted', 'denied', 'pending'],
  /** vehicle decisions (access/access.ts, access/plates.ts) */
  reasons: VEHICLE_REASONS,
  /** a car's class (CONTRACT 8): as listed, or temporary */
  classes: [...VEHICLE_CLASSES, 'temporary'],
  /** `by` of door and lane events */
  actors: [
    'console',
    'remote',
    'exit-button',
    'fire-alarm',
    'schedule',
    'camera',
    'timeout',
    'shutdown',
    'startup',
    'fire-alarm-cleared',
    'safety-loop',
    'auto-close',
    'qr',
    'card',
    'terminal',
  ],
  /** why a credential at a door was refused (access.denied) */
  accessRefusals: ACCESS_REFUSALS,
  /** how a terminal verified someone (door.unlocked / access.denied `method`) */
  methods: TERMINAL_METHODS,
  faults: FAULT_CODES,
  /** refusals of commands and API calls */
  refusals: [
    'unsafe',
    'fire-alarm',
    'offline',
    'not-supported',
    'unknown-device',
    'invalid',
    'expired',
    'replayed',
    'bad-signature',
    'stale-version',
    'busy',
    'unknown-car-park',
  ],
  /** audit.login-failed reasons (http/auth.ts) */
  loginFailures: ['bad-credentials', 'account-locked', 'address-locked'],
  alarmKinds: ALARM_KINDS,
} as const;
