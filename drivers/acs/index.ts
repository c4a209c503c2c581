import type { AccessTerminalConfig } from '../../config/devices.js';
import { DAHUA_METHODS, dahuaTerminal } from './dahua.js';
import { HIKVISION_METHODS, hikvisionTerminal } from './hikvision.js';
import type { AcsProtocol } from './types.js';

export const TERMINAL_PROTOCOLS: Record<AccessTerminalConfig['vendor'], AcsProtocol> = { hikvision: hikvisionTerminal, dahua: dahuaTerminal };
export type { AcsProtocol, AcsPush, AcsRecord } from './types.js';

/** Every way a terminal can say it verified someone (the console translates each). */
export const TERMINAL_METHODS = [...new Set([...HIKVISION_METHODS, ...DAHUA_METHODS, 'unknown'])];
