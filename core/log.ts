/**
 * Logging: pino JSON on stdout for journald, or a readable form for the demo. Secrets are
 * redacted by key and plate numbers masked wherever they appear.
 */
import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import { maskPlatesDeep, maskPlatesInText } from './privacy.js';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'sig',
  '*.sig',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  level?: LogLevel | Level;
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { log: (obj) => maskPlatesDeep(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskPlatesInText(a) : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A human-readable logger for the demo and for an installer watching a terminal. */
export async function createPrettyLogger(level: LogLevel | Level = 'info'): Promise<Logger> {
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
  return createLogger({ level, destination: stream });
}
