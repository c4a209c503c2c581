/**
 * The MQTT uplink: every journaled event to the broker, QoS 1, in seq order, at least once, the
 * same id on every resend; rows are marked forwarded only on PUBACK.
 *
 * One connection state field: idle | connecting | online | backoff | stopping. Each
 * connection is a fresh mqtt.js client with its own reconnect switched off: after a loss the
 * journal, not mqtt.js's memory, is the source of what still has to go. On connect, events
 * appended from then on go out live, ahead of the backlog; the backlog (everything unforwarded
 * below the first live seq) is drained in seq order behind them, with a window of messages in
 * flight, flagged `historical: true`.
 *
 * The site's own traffic comes first: while devices push to the gateway (cars at a lane, people at
 * a terminal: `siteActive`, within the last LIVE_QUIET_MS), the backlog drains at most BUSY_RATE
 * events a second in small journal pages, so the thread that moves barriers keeps time for them;
 * live events are never held back, and with nobody at the gates the backlog drains at full speed
 * (npm run bench: lane_load.*, uplink.backlog_drain; docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { MqttConfig } from '../schema/sections.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import type { JournaledEvent } from '../core/events.js';
import { EVENT_SCHEMA } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Journal } from '../journal/journal.js';
import { RECEIVE_MAX_BYTES } from './topics.js';
import { BacklogPace } from './pace.js';
import { commandTopic, eventTopic, payloadOf, replyTopic, stateTopic, statusTopic } from './topics.js';

type UplinkState = 'idle' | 'connecting' | 'online' | 'backoff' | 'stopping';

interface Outgoing {
  seq: number;
  topic: string;
  payload: string;
}

export interface UplinkOptions {
  mqtt: MqttConfig;
  prefix: string;
  clientId: string;
  journal: Journal;
  log: Logger;
  version: string;
  startedAt: string;
  clock?: Clock;
  random?: () => number;
  /** messages in flight at once (published, PUBACK not yet back) */
  window?: number;
  /** backlog rows read from the journal per page */
  page?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** handles a message on P/cmd and returns the reply for P/cmd/reply */
  onCommand?: (payload: Buffer, retained: boolean) => unknown;
}

export interface UplinkStats {
  connected: boolean;
  published: number;
  acked: number;
  reconnects: number;
}

/** Reads the broker password and TLS files named in the config: secrets live in files. */
export function connectionOptions(o: UplinkOptions): IClientOptions {
  const m = o.mqtt;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new GatewayError('CONFIG_UNREADABLE', `upstream.mqtt.${what}: cannot read ${file}: ${errorMessage(err)}`);
    }
  };
  return {
    clientId: o.clientId,
    clean: false, // a persistent session: the broker keeps our command subscription across outages
    protocolVersion: m.protocolVersion,
    // MQTT 5: the broker keeps the session a week and sends nothing far larger than a command may
    // be (one a little over the limit still arrives, to be answered as too large)
    ...(m.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 24 * 3600, maximumPacketSize: RECEIVE_MAX_BYTES } } : {}),
    keepalive: m.keepaliveSec,
    reconnectPeriod: 0, // our own backoff, with jitter and failover
    connectTimeout: 10_000,
    queueQoSZero: false,
    resubscribe: false,
    // mqtt-packet otherwise builds 65,536 two-byte Buffers for packet ids on the first write:
    // 6 MB of heap to save an allocation per packet.
    writeCache: false,
    ...(m.username !== undefined ? { username: m.username } : {}),
    ...(m.passwordFile ? { password: read(m.passwordFile, 'passwordFile').toString('utf8').split(/\r?\n/)[0] } : {}),
    ...(m.tls?.ca ? { ca: read(m.tls.ca, 'tls.ca') } : {}),
    ...(m.tls?.cert ? { cert: read(m.tls.cert, 'tls.cert') } : {}),
    ...(m.tls?.key ? { key: read(m.tls.key, 'tls.key') } : {}),
    rejectUnauthorized: m.tls?.rejectUnauthorized ?? true,
    will: { topic: statusTopic(o.prefix), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  };
}

export { BUSY_RATE, LIVE_QUIET_MS } from './pace.js';

export class Uplink {
  private state: UplinkState = 'idle';
  private client: MqttClient | undefined;
  private readonly clock: Clock;
  private readonly urls: string[];
  private urlIndex = 0;
  private attempts = 0;
  private reconnectTimer: TimerHandle | undefined;
  private everConnected = false;
  /** whether this connection follows an earlier one: then its whole backlog waited out an outage */
  private afterOutage = false;
  private readonly processStart: number;
  /** the first seq appended after this connection came up: below it is backlog, from it live */
  private firstLiveSeq = Number.POSITIVE_INFINITY;
  private live: Outgoing[] = [];
  private backlog: Outgoing[] = [];
  private backlogCursor = 0;
  private backlogDone = false;
  private loadingBacklog = false;
  private inFlight = 0;
  private readonly states = new Map<string, string>();
  /** MQTT 5 CONNECTs a broker closed the connection on without answering */
  private closedBeforeConnack = 0;
  /** command replies made while offline, sent once connected */
  private readonly pendingReplies: string[] = [];
  private readonly counters = { published: 0, acked: 0, reconnects: 0 };
  private unsubscribe: (() => void) | undefined;
  private connectOptions: IClientOptions;

  constructor(private readonly o: UplinkOptions) {
    this.clock = o.clock ?? systemClock;
    this.pace = new BacklogPace(this.clock, () => this.pump());
    this.urls = o.mqtt.urls ?? (o.mqtt.url ? [o.mqtt.url] : []);
    this.processStart = this.clock.now();
    this.connectOptions = connectionOptions(o); // secrets read once, at start: a missing file fails start
  }

  get connected(): boolean {
    return this.state === 'online';
  }

  /**
   * Whether the uplink's loop still makes progress: not stuck connecting (mqtt.js gives up after
   * its 10 s connect timeout), and acknowledgements still coming while messages are in flight.
   */
  alive(now: number): boolean {
    if (this.state === 'connecting') return now - this.stateSince <= 60_000;
    if (this.state === 'online' && this.inFlight > 0) return now - this.lastAckAt <= 300_000;
    return true;
  }

  private stateSince = 0;
  private lastAckAt = 0;

  stats(): UplinkStats {
    return { connected: this.connected, ...this.counters };
  }

  start(): void {
    if (this.state !== 'idle') return;
    const offAppend = this.o.journal.onAppend((ev, body) => this.onAppend(ev, body));
    const offDurable = this.o.journal.onDurable(() => this.pump());
    this.unsubscribe = () => {
      offAppend();
      offDurable();
    };
    this.connect();
  }

  /** A device's state, retained on P/state/{device}; kept and sent again on every connect. */
  publishState(device: string, state: Record<string, unknown>): void {
    const payload = JSON.stringify(state);
    this.states.set(device, payload);
    if (this.state === 'online') this.client?.publish(stateTopic(this.o.prefix, device), payload, { qos: 1, retain: true });
  }

  /** Says goodbye on the status topic and disconnects; unacknowledged events stay in the journal. */
  async stop(): Promise<void> {
    if (this.state === 'stopping') return;
    const client = this.client;
    const wasOnline = this.state === 'online';
    this.state = 'stopping';
    this.clock.clearTimeout(this.reconnectTimer);
    this.pace.stop();
    this.unsubscribe?.();
    if (!client) return;
    if (wasOnline) {
      await new Promise<void>((resolve) => {
        // real time, not the gateway's clock: a bound on waiting for the network while stopping
        const t = setTimeout(resolve, 1000);
        client.publish(statusTopic(this.o.prefix), '{"online":false}', { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    this.client = undefined;
  }

  private connect(): void {
    const url = this.urls[this.urlIndex % this.urls.length]!;
    this.state = 'connecting';
    this.stateSince = this.clock.now();
    const client = mqtt.connect(url, this.connectOptions);
    this.client = client;
    // Whether the TCP (or TLS) connection came up: a close after that without a CONNACK is the
    // broker turning the CONNECT down, not the broker being away.
    let connectSent = false;
    let connacked = false;
    client.stream?.once('connect', () => void (connectSent = true));
    client.stream?.once('secureConnect', () => void (connectSent = true));
    client.on('connect', () => {
      if (this.client !== client) return;
      connacked = true;
      this.closedBeforeConnack = 0;
      this.online();
    });
    client.on('message', (topic, payload, packet) => {
      if (this.client !== client || topic !== commandTopic(this.o.prefix) || !this.o.onCommand) return;
      // The reply may wait for the command's events to be committed (an answer is a promise).
      // No reply (undefined): it comes later, through publishReply (config.apply).
      void Promise.resolve(this.o.onCommand(payload, packet.retain)).then(
        (reply) => void (reply !== undefined && client.publish(replyTopic(this.o.prefix), JSON.stringify(reply), { qos: 1 })),
        (err: unknown) => this.o.log.error({ err: errorMessage(err) }, 'command reply failed'),
      );
    });
    const lost = (reason: string) => {
      if (this.client !== client || this.state === 'stopping') return;
      // A broker without MQTT 5 says so (aedes, older mosquitto, NATS: "unacceptable protocol
      // version"), or just closes the connection on the CONNECT (RabbitMQ before 3.13).
      const refusesV5 =
        /unacceptable protocol version/i.test(reason) || (reason === 'connection closed' && connectSent && !connacked && ++this.closedBeforeConnack >= 2);
      if (refusesV5 && this.connectOptions.protocolVersion === 5) {
        // Speak 3.1.1 to it from now on.
        this.o.log.warn({ url }, 'broker refuses MQTT 5; falling back to MQTT 3.1.1');
        const { properties: _p, ...rest } = this.connectOptions;
        this.connectOptions = { ...rest, protocolVersion: 4 };
        this.attempts = 0;
        this.urlIndex--; // the same broker again, at once
      }
      this.down(reason);
    };
    client.on('close', () => lost('connection closed'));
    client.on('error', (err) => lost(errorMessage(err)));
  }

  private online(): void {
    this.state = 'online';
    this.lastAckAt = this.clock.now();
    this.attempts = 0;
    this.afterOutage = this.everConnected;
    this.everConnected = true;
    this.firstLiveSeq = this.o.journal.seq + 1;
    this.live = [];
    this.backlog = [];
    this.backlogCursor = 0;
    this.backlogDone = false;
    this.inFlight = 0;
    this.o.log.info({ url: this.urls[this.urlIndex % this.urls.length], firstLiveSeq: this.firstLiveSeq }, 'uplink connected');
    this.publishStatus();
    if (this.o.onCommand) {
      // MQTT 5: keep the retain flag as published, so even a live retained command is seen as one
      const rap = this.connectOptions.protocolVersion === 5;
      this.client?.subscribe(commandTopic(this.o.prefix), { qos: 1, ...(rap ? { rap: true } : {}) }, (err) => {
        if (err) this.o.log.error({ err: errorMessage(err) }, 'cannot subscribe to the command topic');
      });
    }
    for (const [device, payload] of this.states) {
      this.client?.publish(stateTopic(this.o.prefix, device), payload, { qos: 1, retain: true });
    }
    for (const reply of this.pendingReplies.splice(0)) this.client?.publish(replyTopic(this.o.prefix), reply, { qos: 1 });
    this.pump();
  }

  /** Publishes a command's reply that was not given at once (config.apply, after the restart). */
  publishReply(reply: unknown): void {
    const payload = JSON.stringify(reply);
    if (this.state === 'online' && this.client) this.client.publish(replyTopic(this.o.prefix), payload, { qos: 1 });
    else if (this.pendingReplies.length < 100) this.pendingReplies.push(payload);
  }

  private down(reason: string): void {
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners();
    client?.on('error', () => undefined); // late errors of a client we have let go
    client?.end(true);
    // Said from the first failed attempt (a wrong URL must not look like silence), then again
    // only every so often while it keeps failing.
    if (this.state === 'online') this.o.log.warn({ reason }, 'uplink lost; events stay in the journal');
    else if (this.attempts === 0 || this.attempts % 10 === 0)
      this.o.log.warn(
        { reason, url: this.urls[this.urlIndex % this.urls.length], attempts: this.attempts + 1 },
        'uplink cannot connect; events stay in the journal',
      );
    else this.o.log.debug({ reason }, 'uplink connect failed');
    // What was in flight or queued is still unforwarded in the journal: it is backlog next time.
    this.live = [];
    this.backlog = [];
    this.inFlight = 0;
    this.firstLiveSeq = Number.POSITIVE_INFINITY;
    this.state = 'backoff';
    this.urlIndex++; // fail over to the next broker URL
    const min = this.o.reconnectMinMs ?? 1000;
    const max = this.o.reconnectMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempts++, 20));
    const wait = base / 2 + (this.o.random ?? Math.random)() * (base / 2);
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.counters.reconnects++;
      this.connect();
    }, wait);
  }

  private onAppend(ev: JournaledEvent, body: string): void {
    if (this.state !== 'online' || ev.seq < this.firstLiveSeq) return;
    this.live.push({ seq: ev.seq, topic: eventTopic(this.o.prefix, ev.type, ev.device, this.o.mqtt.typeAsLevels), payload: payloadOf(body, false) }); // serialised once, by the journal
    this.pump();
  }

  /**
   * Backlog events are historical: they waited through an outage. Events of this very run made
   * before its first connection are not: that is start-up, not an outage.
   */
  private historical(time: string): boolean {
    return this.afterOutage || Date.parse(time) < this.processStart;
  }

  private pump(): void {
    const window = this.o.window ?? 500; // measured here: 64 drains at ~0.55x a bare mqtt.js publisher, 500 at ~0.8x (npm run bench)
    // Nothing goes upstream before it is on disk: a seq the broker has seen is never given out
    // again after a crash, to another event.
    const durable = this.o.journal.durable;
    while (this.state === 'online' && this.inFlight < window) {
      const live = this.live[0] && this.live[0].seq <= durable ? this.live.shift() : undefined;
      if (!live && this.backlog.length && !this.pace.allow()) break;
      const next = live ?? this.backlog.shift();
      if (!next) {
        this.loadBacklog();
        break;
      }
      this.send(next);
    }
  }

  /** The backlog gives way to a busy lane (uplink/pace.ts). */
  private readonly pace: BacklogPace;

  /** A device is pushing (a car at a lane): for LIVE_QUIET_MS the backlog gives way. */
  siteActive(): void {
    this.pace.active();
  }

  private loadBacklog(): void {
    if (this.backlogDone || this.loadingBacklog || this.state !== 'online') return;
    this.loadingBacklog = true;
    const client = this.client;
    this.o.journal
      .pendingRows(this.backlogCursor, this.firstLiveSeq, this.pace.page(this.o.page ?? 1000))
      .then((rows) => {
        this.loadingBacklog = false;
        if (this.client !== client || this.state !== 'online') return;
        if (rows.length === 0) {
          this.backlogDone = true;
          this.publishStatus();
          return;
        }
        this.backlogCursor = rows[rows.length - 1]!.seq;
        for (const r of rows) {
          this.backlog.push({
            seq: r.seq,
            topic: eventTopic(this.o.prefix, r.type, r.device, this.o.mqtt.typeAsLevels),
            payload: payloadOf(r.body, this.historical(r.time)),
          });
        }
        this.pump();
      })
      .catch((err: unknown) => {
        this.loadingBacklog = false;
        this.o.log.error({ err: errorMessage(err) }, 'reading the backlog failed');
      });
  }

  private send(out: Outgoing): void {
    const client = this.client;
    if (!client) return;
    this.inFlight++;
    this.counters.published++;
    client.publish(out.topic, out.payload, { qos: 1 }, (err) => {
      if (this.client !== client) return; // a connection we have given up: the journal still has it
      this.inFlight--;
      if (!err) {
        this.counters.acked++;
        this.lastAckAt = this.clock.now();
        this.o.journal.ack([out.seq]);
      }
      this.pump();
    });
  }

  private publishStatus(): void {
    const backlog = this.o.journal.lastStats?.depth ?? 0;
    const status = {
      online: true,
      version: this.o.version,
      startedAt: this.o.startedAt,
      backlog: this.backlogDone ? this.live.length + this.inFlight : backlog,
      schema: EVENT_SCHEMA,
    };
    this.client?.publish(statusTopic(this.o.prefix), JSON.stringify(status), { qos: 1, retain: true });
  }
}
