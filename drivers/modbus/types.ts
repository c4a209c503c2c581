/**
 * A Modbus bus: one RS485 line or one TCP peer, shared by every meter and relay board on it.
 *
 * Semantics:
 * - `request(unit, req)` queues one transaction; the bus runs one at a time, in priority order
 *   (`high` for actuation ahead of `normal` polling), FIFO within a priority.
 * - It resolves with the response, or rejects with a GatewayError: MODBUS_TIMEOUT (the unit did
 *   not answer after the configured retries), MODBUS_EXCEPTION (the unit answered with an
 *   exception; context.exception has the code, 2 = illegal data address), MODBUS_UNIT_BACKOFF
 *   (the unit stopped answering and is being left alone for a while), SERIAL_DISCONNECTED (the
 *   adapter or peer is gone; the bus reconnects by itself) or BUS_CLOSED.
 * - A unit that stops answering is backed off on its own: its requests fail fast, without
 *   touching the wire, until its next probe is due. The other units keep their schedule.
 * - `close()` rejects whatever is queued with BUS_CLOSED and releases the port.
 */
export type ModbusRequest =
  | { fc: 1 | 2; address: number; count: number }
  | { fc: 3 | 4; address: number; count: number }
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15; address: number; values: boolean[] }
  | { fc: 16; address: number; values: number[] };

/** Bits for FC 1/2 (exactly `count` of them), registers for FC 3/4, nothing for writes. */
export type ModbusResponse = { bits?: boolean[]; registers?: number[] };

export interface RequestOptions {
  priority?: 'high' | 'normal';
}

export interface BusStats {
  transactions: number;
  timeouts: number;
  /** answers spoiled on the line (CRC, length, stray bytes), retried */
  badFrames: number;
  exceptions: number;
  /** requests answered at once because their unit is backed off */
  backedOff: number;
  reconnects: number;
}

export interface ModbusBus {
  readonly id: string;
  readonly connected: boolean;
  request(unit: number, req: ModbusRequest, options?: RequestOptions): Promise<ModbusResponse>;
  /**
   * One raw exchange on a serial line, queued with the Modbus transactions: DL/T 645 meters on
   * the same RS485 pair. `device.key` is what is backed off when it stops answering; `take`
   * returns the answer once the bytes received hold it (or throws the device's refusal).
   */
  exchange<T>(
    device: { key: string; who: string; what: string },
    request: Buffer,
    take: (received: Buffer) => T | undefined,
    options?: RequestOptions,
  ): Promise<T>;
  /** Connected or not, on each change (the first failed connect included), with the reason when lost. */
  onStatus(listener: (status: { connected: boolean; reason?: string }) => void): () => void;
  stats(): BusStats;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The wire below the queue: one request at a time, no queueing, no retries. */
/**
 * How one attempt on the wire failed, told by type (the link classifies its library's errors
 * in one place): the unit answered with an exception, nobody answered in time, a frame was
 * spoiled on the line, or the port/connection is gone.
 */
export type LinkFailure = 'exception' | 'timeout' | 'bad-frame' | 'gone';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly kind: LinkFailure,
    message: string,
    /** the Modbus exception code, for kind 'exception' */
    readonly exception?: number,
  ) {
    super(message);
  }
}

export interface ModbusLink {
  connect(): Promise<void>;
  readonly isOpen: boolean;
  /**
   * Performs one transaction; rejects with a LinkError. (`exchange`'s `take` may also throw its
   * own protocol's refusal, e.g. a DL/T 645 Dlt645Error, which passes through.)
   */
  transact(unit: number, req: ModbusRequest, timeoutMs: number): Promise<ModbusResponse>;
  /** Raw bytes on a serial line (another protocol on the same wire); `take` says when the answer is complete. */
  exchange?<T>(request: Buffer, take: (received: Buffer) => T | undefined, timeoutMs: number): Promise<T>;
  onClose(listener: (reason: string) => void): void;
  close(): Promise<void>;
}
