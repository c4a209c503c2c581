import { createLogger } from '../gateway/log.js';

export const silentLog = createLogger({ level: 'silent' });
