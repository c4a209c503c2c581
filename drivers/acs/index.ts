import type { AccessTerminalConfig } from '../../config/devices.js';
import { dahuaTerminal } from './dahua.js';
import { hikvisionTerminal } from './hikvision.js';
import type { AcsProtocol } from './types.js';

export const TERMINAL_PROTOCOLS: Record<AccessTerminalConfig['vendor'], AcsProtocol> = { hikvision: hikvisionTerminal, dahua: dahuaTerminal };
export type { AcsProtocol, AcsPush, AcsRecord } from './types.js';
