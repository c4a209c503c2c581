import { createLogger } from '../core/log.js';

export const silentLog = createLogger({ level: 'silent' });
