/**
 * The floor of the meters job: the two libraries the gateway is built on doing the same wire work
 * and nothing else, as their own process. modbus-serial reads the same two blocks of 32 SDM630s on
 * the same pymodbus peer each second (spread over the second), and mqtt.js publishes each
 * reading QoS 1 to the same broker. No journal, no decoding beyond the floats, no HTTP, no state.
 * Run as `node meters-floor.js MODBUS_PORT MQTT_URL`.
 */
import mqtt from 'mqtt';

const [modbusPort, url] = [Number(process.argv[2]), process.argv[3]!];
const ModbusRTU = (await import('modbus-serial')).default as unknown as new () => {
  connectTCP(host: string, o: { port: number }): Promise<void>;
  setID(id: number): void;
  setTimeout(ms: number): void;
  readInputRegisters(a: number, n: number): Promise<{ buffer: Buffer }>;
};
const modbus = new ModbusRTU();
await modbus.connectTCP('127.0.0.1', { port: modbusPort });
modbus.setTimeout(1000);
const client = await mqtt.connectAsync(url, { clientId: 'bench-floor', reconnectPeriod: 0, writeCache: false });

// one transaction at a time on the connection, as any Modbus client must
let chain = Promise.resolve();
const read = (unit: number, address: number, count: number) => {
  const next = chain.then(() => {
    modbus.setID(unit);
    return modbus.readInputRegisters(address, count);
  });
  chain = next.then(
    () => undefined,
    () => undefined,
  );
  return next;
};

const poll = async (unit: number) => {
  const a = await read(unit, 0x0000, 14);
  const b = await read(unit, 0x0156, 2);
  const values = {
    voltageL1V: a.buffer.readFloatBE(0),
    voltageL2V: a.buffer.readFloatBE(4),
    voltageL3V: a.buffer.readFloatBE(8),
    currentL1A: a.buffer.readFloatBE(12),
    currentL2A: a.buffer.readFloatBE(16),
    currentL3A: a.buffer.readFloatBE(20),
    powerL1W: a.buffer.readFloatBE(24),
    energyTotalKwh: b.buffer.readFloatBE(0),
  };
  client.publish(`estate/bench-floor/gw/telemetry/m-${unit}`, JSON.stringify({ time: new Date().toISOString(), values }), { qos: 1 });
};

for (let unit = 1; unit <= 32; unit++) {
  setTimeout(() => setInterval(() => void poll(unit).catch(() => undefined), 1000), ((unit - 1) * 1000) / 32);
}
process.stdout.write('polling\n');
