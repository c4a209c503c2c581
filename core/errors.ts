/**
 * One error class for the whole gateway, with a string code that tests and callers match on,
 * a context for logs, and predicates for the decisions callers make (zwave-js ZWaveError).
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'CONFIG_UNREADABLE',
  'USAGE',
  'DEVICE_UNSUPPORTED',
  'BOARD_UNSUPPORTED',
  'BOARD_OFFLINE',
  'GPIO_CHIP_NOT_FOUND',
  'PIN_UNKNOWN',
  'PIN_DIRECTION',
  'UNSAFE',
  'FIRE_ALARM',
  'UNKNOWN_DEVICE',
  'NOT_SUPPORTED',
  'HTTP_LISTEN',
  'MODBUS_TIMEOUT',
  'MODBUS_EXCEPTION',
  'MODBUS_UNIT_BACKOFF',
  'DLT645_REFUSED',
  'BUS_CLOSED',
  'READER_OFFLINE',
  'DISPLAY_OFFLINE',
  'DISPLAY_SILENT',
  'SERIAL_DISCONNECTED',
  'SHUTDOWN_TIMEOUT',
  'JOURNAL_UNAVAILABLE',
  'TRAVEL_TIMEOUT',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The codes a `device.fault` (and its `device.recovered`) can carry: a board gone, a bollard that
 * did not reach its limit, a meter's bus failures. One set, so the console and platforms can
 * translate every one of them.
 */
export const FAULT_CODES = [
  'BOARD_OFFLINE',
  'TRAVEL_TIMEOUT',
  'MODBUS_TIMEOUT',
  'MODBUS_EXCEPTION',
  'MODBUS_UNIT_BACKOFF',
  'DLT645_REFUSED',
  'SERIAL_DISCONNECTED',
  'BUS_CLOSED',
  'READER_OFFLINE',
  'DISPLAY_OFFLINE',
  'DISPLAY_SILENT',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
export type FaultCode = (typeof FAULT_CODES)[number];

/** The fault code for an error a device's own loop hit. */
export function faultCodeOf(err: unknown): FaultCode {
  const code = err instanceof GatewayError ? err.code : 'INTERNAL';
  return (FAULT_CODES as readonly string[]).includes(code) ? (code as FaultCode) : 'INTERNAL';
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['BOARD_OFFLINE', 'MODBUS_TIMEOUT', 'MODBUS_UNIT_BACKOFF', 'SERIAL_DISCONNECTED']);

export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isGatewayError(e: unknown, code?: ErrorCode): e is GatewayError {
  return e instanceof GatewayError && (code === undefined || e.code === code);
}

export function isRetryable(e: unknown): boolean {
  return e instanceof GatewayError && RETRYABLE.has(e.code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
