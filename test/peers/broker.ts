/** MQTT brokers for tests: aedes in-process, and a subscriber that records what arrives. */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';

export interface TestBroker {
  port: number;
  stop(): Promise<void>;
  /** client ids of the connections made so far (aedes only) */
  clientIds?: string[];
}

export async function startAedes(port = 0, credentials?: { username: string; password: string }): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  if (credentials) {
    aedes.authenticate = (_client, username, password, done) => {
      const ok = username === credentials.username && password?.toString() === credentials.password;
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 }), ok);
    };
  }
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = address && typeof address === 'object' ? address.port : port;
  const clientIds: string[] = [];
  aedes.on('client', (client) => void clientIds.push(client.id));
  return {
    port: bound,
    clientIds,
    stop: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
        // close() waits for clients; the gateway's connection is cut as a crash would cut it
        for (const c of Object.values((aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients)) c.conn.destroy();
      }),
  };
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Subscriber {
  messages: Received[];
  json<T = Record<string, unknown>>(filter?: (m: Received) => boolean): T[];
  stop(): Promise<void>;
  client: MqttClient;
}

export async function subscribe(port: number, topic: string): Promise<Subscriber> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `test-sub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on('message', (t, p, packet) => messages.push({ topic: t, payload: p.toString(), retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    messages,
    client,
    json: (filter = () => true) => messages.filter(filter).map((m) => JSON.parse(m.payload)),
    stop: () => client.endAsync(true),
  };
}

export { until } from './until.js';

/** A real mosquitto (Debian's), on a loopback port, anonymous, no persistence. */
export async function startMosquitto(port: number): Promise<TestBroker> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'eg-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const end = Date.now() + 5000;
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
      await probe.endAsync(true);
      break;
    } catch {
      if (Date.now() > end) throw new Error('mosquitto did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export const HAVE_MOSQUITTO = (await import('node:child_process')).spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).status !== null;
