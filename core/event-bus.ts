/**
 * A typed event bus between drivers, devices and the rest; what travels on the gateway's own
 * is listed in devices/messages.ts. Listeners are isolated: one that
 * throws (or rejects) is logged with its owner and never stops the others or the process
 * (Zigbee2MQTT eventBus.ts).
 */
import type { Logger } from 'pino';

type Listener<T> = (payload: T) => void | Promise<void>;

interface Entry<T> {
  owner: string;
  listener: Listener<T>;
}

export class EventBus<M extends object> {
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
