import { afterEach, describe, expect, it } from 'vitest';
import type { JournaledEvent } from '../core/events.js';
import { eventMaker } from '../core/events.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import type { TestBroker } from './peers/broker.js';
import { startAedes, subscribe, until } from './peers/broker.js';
import { freePort } from './peers/modbus.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PREFIX = 'estate/test-site/gw-test';

async function gatewayOn(port: number, dataDir?: string, mqttConfig: Record<string, unknown> = { url: `mqtt://127.0.0.1:${port}` }) {
  const config = siteConfig({
    upstream: { mqtt: mqttConfig },
    io: [{ id: 'sim', type: 'sim' }],
    devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' }],
  });
  if (dataDir) config.gateway.dataDir = dataDir;
  const gateway = new Gateway({ config, log: silentLog, version: '9.9.9', listen: false, uplink: { reconnectMinMs: 100, reconnectMaxMs: 500 } });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  const make = eventMaker('test-site', 'gw-test', gateway.clock);
  const emit = (n: number) => {
    for (let i = 0; i < n; i++) gateway.eventBus.emit('event', make('door.unlocked', 'door-a', { by: 'console', user: `u${i}` }));
  };
  return { gateway, emit, config };
}

describe('the uplink (aedes in-process)', () => {
  it('publishes every event on P/events/{type} with the contract envelope, a retained status and device state', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const sub = await subscribe(broker.port, `${PREFIX}/#`);
    cleanups.push(() => sub.stop());
    const { gateway } = await gatewayOn(broker.port);
    await until('connected', () => gateway.uplink!.connected);
    gateway.devices.get('door-a')!.command('open', { by: 'remote', user: 'platform-7' });
    await until('door.unlocked', () => sub.messages.some((m) => m.topic === `${PREFIX}/events/door.unlocked`));
    const ev = sub.json((m) => m.topic === `${PREFIX}/events/door.unlocked`)[0]!;
    expect(ev).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      seq: expect.any(Number),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      type: 'door.unlocked',
      site: 'test-site',
      gateway: 'gw-test',
      device: 'door-a',
      schema: 1,
      historical: false,
      data: { by: 'remote', user: 'platform-7', durationMs: 5000 },
    });
    const status = sub.json((m) => m.topic === `${PREFIX}/status`)[0]!;
    expect(status).toMatchObject({ online: true, version: '9.9.9', startedAt: expect.any(String), backlog: expect.any(Number), schema: 1 });
    expect(broker.clientIds).toContain('gw-test'); // a fleet routes by gateway: the client id is its id
    await until('state', () => sub.json((m) => m.topic === `${PREFIX}/state/door-a`).some((s) => s.state === 'unlocked'));

    // A late subscriber gets the retained status and states at once.
    const late = await subscribe(broker.port, `${PREFIX}/+/#`);
    cleanups.push(() => late.stop());
    await until('retained', () => late.messages.some((m) => m.retain && m.topic === `${PREFIX}/state/door-a`));
    expect(
      late.messages
        .filter((m) => m.retain)
        .map((m) => m.topic)
        .sort(),
    ).toEqual([`${PREFIX}/state/door-a`, `${PREFIX}/status`]);
    await until('acked', () => gateway.uplink!.stats().acked >= 2);

    // Meter readings go to P/telemetry/{device}, same envelope.
    const make = eventMaker('test-site', 'gw-test', gateway.clock);
    gateway.eventBus.emit('event', make('meter.reading', 'meter-b1', { values: { voltageV: 229.8, energyImportKwh: 1234.5 } }));
    await until('telemetry', () => sub.messages.some((m) => m.topic === `${PREFIX}/telemetry/meter-b1`));
    expect(sub.json((m) => m.topic === `${PREFIX}/telemetry/meter-b1`)[0]).toMatchObject({
      type: 'meter.reading',
      device: 'meter-b1',
      historical: false,
      data: { values: { voltageV: 229.8, energyImportKwh: 1234.5 } },
    });
    expect(sub.messages.some((m) => m.topic.endsWith('/events/meter.reading'))).toBe(false);
  });

  it('broker down, 10,000 events, broker back: all arrive once per id, gapless and in seq order', async () => {
    let broker: TestBroker = await startAedes();
    const port = broker.port;
    const { gateway, emit } = await gatewayOn(port);
    await until('connected', () => gateway.uplink!.connected);
    await broker.stop();
    await until('disconnected', () => !gateway.uplink!.connected);
    const firstSeq = gateway.journal!.seq + 1;
    emit(10_000);
    broker = await startAedes(port);
    cleanups.push(() => broker.stop());
    const sub = await subscribe(port, `${PREFIX}/events/#`);
    cleanups.push(() => sub.stop());
    await until('10,000 events', () => sub.messages.length >= 10_000, 60_000);
    const events = sub.json<JournaledEvent>().filter((e) => e.seq >= firstSeq);
    expect(events).toHaveLength(10_000);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 10_000 }, (_, i) => firstSeq + i));
    expect(new Set(events.map((e) => e.id)).size).toBe(10_000);
    expect(events.every((e) => e.historical)).toBe(true);
    await until('all acked', () => gateway.uplink!.stats().acked >= 10_000);
    expect((await gateway.journal!.stats()).depth).toBe(0);
  }, 90_000);

  it('a live event goes ahead of the backlog drain, not flagged historical', async () => {
    let broker: TestBroker = await startAedes();
    const port = broker.port;
    const { gateway, emit } = await gatewayOn(port);
    await until('connected', () => gateway.uplink!.connected);
    await broker.stop();
    await until('disconnected', () => !gateway.uplink!.connected);
    emit(5000);
    broker = await startAedes(port);
    cleanups.push(() => broker.stop());
    const sub = await subscribe(port, `${PREFIX}/events/#`);
    cleanups.push(() => sub.stop());
    await until('reconnected', () => gateway.uplink!.connected);
    gateway.devices.get('door-a')!.command('open', { by: 'console' });
    await until('all', () => sub.messages.length >= 5001, 60_000);
    const arrived = sub.json<JournaledEvent>();
    const live = arrived.findIndex((e) => !e.historical);
    expect(arrived[live]!.type).toBe('door.unlocked');
    expect(arrived[live]!.data).toMatchObject({ by: 'console' });
    expect(live).toBeLessThan(4000); // it did not wait for the 5,000 behind it
  }, 90_000);

  it('fails over to the next broker URL when the first does not answer', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const dead = await freePort();
    const { gateway } = await gatewayOn(broker.port, undefined, { urls: [`mqtt://127.0.0.1:${dead}`, `mqtt://127.0.0.1:${broker.port}`] });
    await until('connected through the second URL', () => gateway.uplink!.connected, 10_000);
  });

  it('logs in with the password from passwordFile; a wrong one never connects', async () => {
    const broker = await startAedes(0, { username: 'gw-north', password: 's3cret' });
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'eg-secret-'));
    writeFileSync(join(dir, 'good'), 's3cret\n');
    writeFileSync(join(dir, 'bad'), 'guess\n');
    const good = await gatewayOn(broker.port, undefined, { url: `mqtt://127.0.0.1:${broker.port}`, username: 'gw-north', passwordFile: join(dir, 'good') });
    await until('connected', () => good.gateway.uplink!.connected);
    const bad = await gatewayOn(broker.port, undefined, {
      url: `mqtt://127.0.0.1:${broker.port}`,
      username: 'gw-north',
      passwordFile: join(dir, 'bad'),
      clientId: 'other-gw',
    });
    await new Promise((r) => setTimeout(r, 800));
    expect(bad.gateway.uplink!.connected).toBe(false);
    expect(bad.gateway.health().status).toBe('degraded');
  });

  it('refuses to start with a password file it cannot read, naming the key', async () => {
    const config = siteConfig({ upstream: { mqtt: { url: 'mqtt://127.0.0.1:1', passwordFile: '/nonexistent/password' } } });
    const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false });
    cleanups.push(() => gateway.stop());
    await expect(gateway.start()).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE', message: expect.stringContaining('upstream.mqtt.passwordFile') });
  });

  it('the broker publishes the last will {"online":false} when the gateway vanishes', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const { gateway } = await gatewayOn(broker.port);
    await until('connected', () => gateway.uplink!.connected);
    const sub = await subscribe(broker.port, `${PREFIX}/status`);
    cleanups.push(() => sub.stop());
    // cut the TCP connection under the client, as a power cut would
    (gateway.uplink as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await until('will', () => sub.json().some((s) => s.online === false));
  });
});
