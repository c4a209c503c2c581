/** What travels on the gateway's event bus (core/event-bus.ts), by name. */
import type { PendingDecision } from '../access/access.js';
import type { CarParkState } from '../access/car-parks.js';
import type { EventBus } from '../core/event-bus.js';
import type { GatewayEvent } from '../core/events.js';

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
  /** A car park's count changed (its retained P/state/{id}, the console). */
  carPark: CarParkState;
}

export type GatewayBus = EventBus<BusMessages>;
