/**
 * The backlog gives way to a busy lane (uplink/uplink.ts): while devices push to the gateway, a
 * drain publishes at most BUSY_RATE backlog events a second; when they have been quiet for
 * LIVE_QUIET_MS it drains at full speed again. Live events are never held back. Counted at a real
 * (in-process) broker.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournaledEvent } from '../core/events.js';
import type { Journal } from '../journal/journal.js';
import { BUSY_RATE, LIVE_QUIET_MS, Uplink } from '../uplink/uplink.js';
import { silentLog } from './helpers.js';
import { until } from './peers/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BACKLOG = 40_000;

describe('the backlog gives way to a busy lane', () => {
  it('full speed when quiet, BUSY_RATE a second while devices push, full speed again after; live events go at once', async () => {
    const aedes = await Aedes.createBroker();
    const received: string[] = [];
    aedes.on('publish', (packet, client) => void (client && packet.topic.includes('/events/') && received.push(packet.topic)));
    const server: Server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));

    let append: ((ev: JournaledEvent, body: string) => void) | undefined;
    const rows = Array.from({ length: BACKLOG }, (_, i) => ({
      seq: i + 1,
      type: 'alarm.raised',
      device: 'fence',
      time: new Date(0).toISOString(),
      body: JSON.stringify({ id: `e${i + 1}`, seq: i + 1, type: 'alarm.raised', data: { kind: 'perimeter' } }),
    }));
    const journal = {
      seq: BACKLOG,
      durable: Number.MAX_SAFE_INTEGER,
      lastStats: { depth: BACKLOG },
      onAppend: (f: (ev: JournaledEvent, body: string) => void) => ((append = f), () => undefined),
      onDurable: () => () => undefined,
      pendingRows: async (after: number, before: number, limit: number) => rows.filter((r) => r.seq > after && r.seq < before).slice(0, limit),
      ack: () => undefined,
    } as unknown as Journal;
    const uplink = new Uplink({
      mqtt: { url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, keepaliveSec: 30, typeAsLevels: false, protocolVersion: 5 } as never,
      prefix: 'est/gw',
      clientId: 'gw',
      journal,
      log: silentLog,
      version: 'test',
      startedAt: new Date().toISOString(),
    });
    uplink.start();
    cleanups.push(() => uplink.stop());
    const backlogSeen = () => received.filter((t) => t.endsWith('/alarm.raised')).length;

    // quiet: the drain runs at full speed
    await until(
      () => `${backlogSeen()} drained`,
      () => backlogSeen() >= 5000,
    );

    // a lane gets busy: pushes every 100 ms for a second
    const before = backlogSeen();
    const started = Date.now();
    while (Date.now() - started < 1000) {
      uplink.siteActive();
      await new Promise((r) => setTimeout(r, 100));
    }
    // what was in flight when it got busy (a window of 500) may still arrive; beyond that, BUSY_RATE a second
    const whileBusy = backlogSeen() - before;
    expect(whileBusy).toBeLessThanOrEqual(500 + BUSY_RATE * 1.2);

    // a live event while busy goes at once, ahead of the backlog
    append!(
      { seq: BACKLOG + 1, type: 'door.unlocked', device: 'door-a', time: new Date().toISOString() } as JournaledEvent,
      '{"id":"live","type":"door.unlocked"}',
    );
    await until(
      () => 'the live event',
      () => received.some((t) => t.endsWith('/door.unlocked')),
      1000,
    );

    // quiet again: full speed (thousands within a moment after LIVE_QUIET_MS)
    const quietFrom = backlogSeen();
    await until(
      () => `${backlogSeen() - quietFrom} drained after the lane went quiet`,
      () => backlogSeen() - quietFrom >= 10_000,
      LIVE_QUIET_MS + 8000,
    );
  }, 30_000);
});

describe('what makes the backlog give way, in the gateway', () => {
  it('a camera push, and a card or pass at a reader; not a door contact or a meter', async () => {
    const { startGateway } = await import('./helpers.js');
    const { startAedes } = await import('./peers/broker.js');
    const { rawPost } = await import('./peers/raw-http.js');
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const h = await startGateway(
      {
        upstream: { mqtt: { url: `mqtt://127.0.0.1:${broker.port}` } },
        devices: [
          { id: 'gate', type: 'barrier', open: { io: 'sim', pin: 1 } },
          { id: 'cam', type: 'lpr-camera', vendor: 'generic', direction: 'in', lane: 'gate', allowFrom: ['127.0.0.1'] },
        ],
      },
      undefined,
      { listen: '127.0.0.1:0', journal: true },
    );
    cleanups.push(() => h.gateway.stop());
    await until('the uplink', () => h.gateway.uplink !== undefined);
    const calls: string[] = [];
    const uplink = h.gateway.uplink!;
    const original = uplink.siteActive.bind(uplink);
    uplink.siteActive = () => {
      calls.push('active');
      original();
    };
    // events made as the devices make them (the gateway's own emit: journaled, numbered)
    const emit = (h.gateway as unknown as { emit(type: string, device: string, data: unknown): string }).emit.bind(h.gateway);
    const event = (type: string, data: Record<string, unknown>) => emit(type, 'd', data);
    event('door.opened', {});
    event('meter.reading', { values: {} });
    event('door.unlocked', { by: 'exit-button' });
    expect(calls).toEqual([]);
    event('door.unlocked', { by: 'card', card: '1' });
    event('access.denied', { by: 'qr', reason: 'expired' });
    expect(calls).toEqual(['active', 'active']);
    await rawPost(h.gateway.address!.port, '/lpr/cam', Buffer.from('{"plate":"粤B12345","confidence":95}'), 'application/json', 'http1.0');
    expect(calls).toEqual(['active', 'active', 'active']);
  });
});
