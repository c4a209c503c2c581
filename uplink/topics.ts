/** Topics and payloads exactly as docs/events.md describes them. */
import type { JournaledEvent } from '../core/events.js';
import { TELEMETRY_TYPES } from '../journal/journal.js';

/**
 * `P/events/{type}` (`P/events/door.unlocked`), or with `typeAsLevels` `P/events/door/unlocked`
 * for brokers whose MQTT cannot carry a '.' in a topic (NATS before 2.10 drops such messages).
 */
export function eventTopic(prefix: string, type: string, device: string, typeAsLevels = false): string {
  if (TELEMETRY_TYPES.has(type)) return `${prefix}/telemetry/${device}`;
  return `${prefix}/events/${typeAsLevels ? type.replaceAll('.', '/') : type}`;
}

/**
 * The envelope as sent: the journaled JSON (which has every field but `historical`) with the flag
 * added, without parsing and re-serialising the body on the hot path of a backlog drain.
 */
export function payloadOf(body: string, historical: boolean): string {
  return `${body.slice(0, -1)},"historical":${historical}}`;
}

export function livePayload(event: JournaledEvent): string {
  return JSON.stringify({ ...event, historical: false });
}

export const statusTopic = (prefix: string) => `${prefix}/status`;
export const stateTopic = (prefix: string, device: string) => `${prefix}/state/${device}`;
export const commandTopic = (prefix: string) => `${prefix}/cmd`;
export const replyTopic = (prefix: string) => `${prefix}/cmd/reply`;

/** A plates.replace of ~50,000 residents fits; a command larger than this is refused unread. */
export const COMMAND_MAX_BYTES = 4 * 1024 * 1024;
/**
 * What the broker may send us at most (MQTT 5 maximumPacketSize): commands up to this size
 * arrive and one over COMMAND_MAX_BYTES is answered as too large; a larger one the broker drops.
 */
export const RECEIVE_MAX_BYTES = 16 * 1024 * 1024;
