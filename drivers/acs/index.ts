import { DAHUA_METHODS, dahuaTerminal } from './dahua.js';
import { HIKVISION_METHODS, hikvisionTerminal } from './hikvision.js';
import type { AcsProtocol, TerminalVendor } from './types.js';

export const TERMINAL_PROTOCOLS: Record<TerminalVendor, AcsProtocol> = { hikvision: hikvisionTerminal, dahua: dahuaTerminal };
export type { AcsProtocol, AcsPush, AcsRecord } from './types.js';

/** Every way a terminal can say it verified someone (the console translates each). */
export const TERMINAL_METHODS = [...new Set([...HIKVISION_METHODS, ...DAHUA_METHODS, 'unknown'])];
