/**
 * Nothing secret in logs, over the whole suite (#27): every in-process gateway the tests start
 * logs at info level into a file of the run's log folder (instead of nowhere), and so do the real
 * processes `runGatewayProcess` starts; when the suite ends, test/global-logs.ts reads them all
 * and fails the run if any secret the tests use appears in them. Add a secret here when a test
 * brings a new one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createLogger } from '../core/log.js';
import type { Logger } from '../core/log.js';

/** Every password, key and token the tests give the gateway. */
export const TEST_SECRETS = [
  'a-shared-secret-of-the-platform',
  'TopSecret-42',
  'admin-password-1',
  'staff-password-2',
  's3cret-for-gw-north',
  'a long installer password',
  'correct horse battery',
  'gw-1-password',
  'guard-password-1',
  'installer-password-1',
] as const;

/** The run's log folder, when the suite runs as a whole (test/global-logs.ts sets it). */
export const SUITE_LOG_DIR = process.env['EG_SUITE_LOG_DIR'];

/** A file in the run's log folder for this worker's loggers, or undefined outside a suite run. */
export function suiteLogFile(what: string): string | undefined {
  if (!SUITE_LOG_DIR) return undefined;
  mkdirSync(SUITE_LOG_DIR, { recursive: true });
  return join(SUITE_LOG_DIR, `${what}-${process.pid}-${process.env['VITEST_POOL_ID'] ?? '0'}.ndjson`);
}

/** The logger in-process gateways get in tests: the suite's log file at info, or nothing. */
export function suiteLogger(): Logger {
  const file = suiteLogFile('in-process');
  if (!file) return createLogger({ level: 'silent' });
  return createLogger({ level: 'info', destination: pino.destination({ dest: file, sync: true, append: true }) as never });
}
