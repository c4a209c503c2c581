/**
 * The platform side of the gateway: the uplink that forwards the journal over MQTT, and the
 * checked commands that come back on it. Only built when the site forwards upstream; the uplink's
 * module (and mqtt.js) is loaded by the caller while the hardware connects.
 */
import { carParkState } from '../access/car-parks.js';
import type { AccessControl } from '../access/access.js';
import { topicPrefix } from '../config/topics.js';
import type { SiteConfig } from '../config/schema.js';
import type { Device } from '../devices/types.js';
import type { Journal } from '../journal/journal.js';
import type { Uplink, UplinkOptions } from '../uplink/uplink.js';
import type { Clock } from '../core/clock.js';
import type { EventData } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { ConfigControl } from './config-control.js';
import type { UpgradeControl } from './upgrade-control.js';
import { RemoteCommands, readCommandKey } from './remote.js';

type MqttConfig = NonNullable<NonNullable<SiteConfig['upstream']>['mqtt']>;

export interface UpstreamDeps {
  config: SiteConfig;
  mqtt: MqttConfig;
  journal: Journal;
  devices: ReadonlyMap<string, Device>;
  access: AccessControl;
  clock: Clock;
  log: Logger;
  version: string;
  startedAt: string;
  /** reconnect timing and window (tests, benchmarks) */
  tuning?: Pick<UplinkOptions, 'reconnectMinMs' | 'reconnectMaxMs' | 'window'> | undefined;
  audit(data: EventData['audit.command']): void;
  configControl?: ConfigControl | undefined;
  upgradeControl?: UpgradeControl | undefined;
  /** resolves once what the command did is on disk: its reply waits for this */
  committed(): Promise<void>;
}

export async function connectUpstream(
  loading: Promise<typeof import('../uplink/uplink.js')>,
  deps: UpstreamDeps,
): Promise<{ remote: RemoteCommands; uplink: Uplink }> {
  const { config, mqtt, log } = deps;
  const remote = new RemoteCommands({
    key: mqtt.commandKey ? readCommandKey(mqtt.commandKey) : undefined,
    dataDir: config.gateway.dataDir,
    clock: deps.clock,
    log: log.child({ component: 'commands' }),
    devices: deps.devices,
    access: deps.access,
    audit: deps.audit,
    config: deps.configControl,
    upgrade: deps.upgradeControl,
  });
  const { Uplink } = await loading;
  const uplink = new Uplink({
    onCommand: async (payload, retained) => {
      const reply = remote.handle(payload, retained);
      await deps.committed();
      // config.apply is answered later, by the gateway that runs the new config
      return reply.ok && reply['deferred'] === true ? undefined : reply;
    },
    mqtt,
    prefix: topicPrefix(config),
    // A fleet routes by gateway: the client id is the gateway's id unless the site says otherwise.
    clientId: mqtt.clientId ?? config.gateway.id,
    journal: deps.journal,
    log: log.child({ component: 'uplink' }),
    version: deps.version,
    startedAt: deps.startedAt,
    clock: deps.clock,
    ...deps.tuning,
  });
  for (const device of deps.devices.values()) uplink.publishState(device.id, device.snapshot());
  for (const park of deps.access.carParks.states()) uplink.publishState(park.id, carParkState(park));
  uplink.start();
  return { remote, uplink };
}

/**
 * A site that forwards nowhere: nothing will ever send its events on, so they count as delivered
 * once journaled (those of earlier runs too), and retention (keepForwardedDays) bounds how long
 * they, and their plates, stay. Returns how to stop.
 */
export function forwardNowhere(journal: Journal): () => void {
  const off = journal.onAppend((ev) => journal.ack([ev.seq]));
  journal.ackUpTo(journal.seq);
  return off;
}
