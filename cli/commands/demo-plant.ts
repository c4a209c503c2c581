/**
 * What the demo estate's plant room and upstream would be: a Modbus TCP server on loopback that
 * answers as the configured meters would (modbus-serial's server; values that drift and energy
 * totals that grow), and an embedded MQTT broker (aedes) the uplink forwards to. Both listen on
 * loopback ports of their own; the demo points its config at them.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import type { MeterConfig } from '../../devices/meter/index.js';
import { meterSpecs } from '../../devices/meter/meter.js';
import type { RegisterSpec } from '../../devices/meter/templates.js';
import { encode } from '../../drivers/modbus/decode.js';

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
  });
}

/** A plausible value for a meter value by its name (the unit is in the name). */
export function demoValue(name: string, unit: number, seconds: number): number {
  const wobble = Math.sin(seconds / 30 + unit);
  if (/^voltage/.test(name)) return 229 + 2 * wobble;
  if (/^current/.test(name)) return 4 + unit + wobble;
  if (/^powerFactor/.test(name)) return 0.97;
  if (/^frequencyHz/.test(name)) return 50 + 0.02 * wobble;
  if (/Kwh$/.test(name)) return /Export/.test(name) ? 0 : 1000 * unit + seconds * 0.0012 * (4 + unit);
  if (/(W|VA|Var)$/.test(name)) return 229 * (4 + unit + wobble) * (/reactive/i.test(name) ? 0.2 : 1);
  return 0;
}

export async function startDemoMeters(meters: readonly MeterConfig[]): Promise<{ port: number; close(): Promise<void> }> {
  const started = Date.now();
  const byUnit = new Map<number, RegisterSpec[]>(meters.filter((m) => m.unit !== undefined).map((m) => [m.unit!, meterSpecs(m)]));
  const word = (fc: 3 | 4, address: number, unit: number): number => {
    for (const spec of byUnit.get(unit) ?? []) {
      if (spec.fc !== fc) continue;
      const words = encode(demoValue(spec.name, unit, (Date.now() - started) / 1000) / spec.scale, spec.type, spec.wordOrder);
      if (address >= spec.address && address < spec.address + words.length) return words[address - spec.address]!;
    }
    return 0;
  };
  const port = await freeLoopbackPort();
  // A CommonJS module: its server class hangs off module.exports.
  const { ServerTCP } = (await import('modbus-serial')).default as unknown as {
    ServerTCP: new (vector: object, options: object) => { on(e: 'error', l: (err: unknown) => void): void; close(cb: () => void): void };
  };
  const server = new ServerTCP(
    {
      getInputRegister: (address: number, unit: number) => word(4, address, unit),
      getHoldingRegister: (address: number, unit: number) => word(3, address, unit),
    },
    { host: '127.0.0.1', port, unitID: 255 },
  );
  server.on('error', () => undefined); // a demo meter that hiccups is what the gateway handles anyway
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function startDemoBroker(): Promise<{ url: string; close(): Promise<void> }> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  const url = `mqtt://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
        for (const c of Object.values((aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients)) c.conn.destroy();
      }),
  };
}
