/**
 * The floor of a site's footprint: the libraries that site's gateway is built on doing the same
 * work, alone, in a process started like the gateway (launchLikeGateway). Always an HTTP server
 * (fastify, the console's) and better-sqlite3 in a worker thread writing each reading or a
 * heartbeat a second (the journal); with `--modbus PORT:UNITS:SEC` modbus-serial reading each
 * unit's SDM630 block on that Modbus TCP peer every SEC seconds; with `--mqtt URL` each reading
 * published QoS 1 by mqtt.js; with `--xml` the cameras' XML parser loaded and used once.
 * Run as `node footprint-floor.js [--modbus PORT:UNITS:SEC] [--mqtt URL] [--xml]`; prints `ready`.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';

const { values: args } = parseArgs({ options: { modbus: { type: 'string' }, mqtt: { type: 'string' }, xml: { type: 'boolean' } } });

const app = Fastify();
app.get('/api/health', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });

const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const Database = require(workerData.sqlite);
   const db = new Database(workerData.file);
   db.pragma('journal_mode = WAL');
   db.exec('CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT)');
   const insert = db.prepare('INSERT INTO events (body) VALUES (?)');
   parentPort.on('message', (body) => insert.run(body));`,
  {
    eval: true,
    workerData: { file: join(mkdtempSync(join(tmpdir(), 'eg-floor-')), 'floor.db'), sqlite: createRequire(import.meta.url).resolve('better-sqlite3') },
  },
);

let publish: ((body: string) => void) | undefined;
if (args.mqtt) {
  const mqtt = (await import('mqtt')).default;
  const client = await mqtt.connectAsync(args.mqtt, { clientId: `floor-${process.pid}`, reconnectPeriod: 1000, writeCache: false });
  publish = (body) => void client.publish(`floor/${process.pid}/telemetry`, body, { qos: 1 });
}

if (args.xml) {
  const { XMLParser } = await import('fast-xml-parser');
  new XMLParser().parse('<EventNotificationAlert><ipAddress>10.0.0.1</ipAddress></EventNotificationAlert>');
}

if (args.modbus) {
  const [port, units, seconds] = args.modbus.split(':').map(Number) as [number, number, number];
  const ModbusRTU = (await import('modbus-serial')).default as unknown as new () => {
    connectTCP(host: string, o: { port: number }): Promise<void>;
    setID(id: number): void;
    setTimeout(ms: number): void;
    readInputRegisters(a: number, n: number): Promise<{ buffer: Buffer }>;
  };
  const modbus = new ModbusRTU();
  await modbus.connectTCP('127.0.0.1', { port });
  modbus.setTimeout(1000);
  let chain = Promise.resolve();
  const poll = (unit: number) => {
    chain = chain
      .then(async () => {
        modbus.setID(unit);
        const a = await modbus.readInputRegisters(0x0000, 14);
        const body = JSON.stringify({ time: new Date().toISOString(), unit, voltageL1V: a.buffer.readFloatBE(0), powerL1W: a.buffer.readFloatBE(24) });
        worker.postMessage(body);
        publish?.(body);
      })
      .catch(() => undefined);
  };
  for (let unit = 1; unit <= units; unit++) setInterval(() => poll(unit), seconds * 1000);
} else {
  setInterval(() => worker.postMessage(JSON.stringify({ time: new Date().toISOString() })), 1000);
}
process.stdout.write('ready\n');
