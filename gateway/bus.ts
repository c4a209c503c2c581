/**
 * A typed event bus between drivers, devices and the rest. Listeners are isolated: one that
 * throws (or rejects) is logged with its owner and never stops the others or the process
 * (Zigbee2MQTT eventBus.ts).
 */
import type { Logger } from 'pino';
import type { PendingDecision } from '../access/access.js';
import type { GatewayEvent } from './events.js';

export interface DeviceStateChange {
  device: string;
  state: Record<string, unknown>;
}

/** Everything that travels on the bus, by name. */
export interface BusMessages {
  /** An event for the journal and the uplink. */
  event: GatewayEvent;
  /** A device's state changed (for P/state/{device} and the console). */
  state: DeviceStateChange;
  /** The fire alarm input changed. */
  fireAlarm: { active: boolean };
  /** The vehicles waiting for a staff decision changed. */
  pending: { waiting: PendingDecision[] };
}

type Listener<T> = (payload: T) => void | Promise<void>;

interface Entry<T> {
  owner: string;
  listener: Listener<T>;
}

export class EventBus<M extends object = BusMessages> {
  private readonly listeners = new Map<keyof M, Entry<never>[]>();

  constructor(private readonly log: Logger) {}

  /** Subscribes `listener`, named by `owner` in logs. Returns the unsubscribe function. */
  on<K extends keyof M>(name: K, owner: string, listener: Listener<M[K]>): () => void {
    const entry = { owner, listener } as Entry<M[K]>;
    const list = (this.listeners.get(name) ?? []) as Entry<M[K]>[];
    this.listeners.set(name, [...list, entry] as Entry<never>[]);
    return () => {
      const current = (this.listeners.get(name) ?? []) as Entry<M[K]>[];
      this.listeners.set(name, current.filter((e) => e !== entry) as Entry<never>[]);
    };
  }

  /** Calls every listener synchronously in subscription order. */
  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const list = this.listeners.get(name) as Entry<M[K]>[] | undefined;
    if (!list) return;
    for (const { owner, listener } of list) {
      try {
        const result = listener(payload);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) => this.report(owner, String(name), err));
        }
      } catch (err) {
        this.report(owner, String(name), err);
      }
    }
  }

  listenerCount(name: keyof M): number {
    return this.listeners.get(name)?.length ?? 0;
  }

  private report(owner: string, name: string, err: unknown): void {
    this.log.error({ owner, message: name, err }, 'bus listener failed');
  }
}
