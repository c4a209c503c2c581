/**
 * A noisy RS485 line for tests: the gateway's pty and the peer's pty, with a relay between that
 * passes requests through and spoils some responses (stray bytes before them, or cut short).
 */
import { SerialPort } from 'serialport';
import { ptyPair } from './modbus.js';

export interface NoisyLine {
  /** the path the gateway opens */
  gatewaySide: string;
  /** the path the Modbus peer opens */
  peerSide: string;
  spoiled: { garbage: number; truncated: number; clean: number };
  stop(): Promise<void>;
}

export async function noisyLine(): Promise<NoisyLine> {
  const near = await ptyPair();
  const far = await ptyPair();
  const toGateway = new SerialPort({ path: near.b, baudRate: 9600 });
  const toPeer = new SerialPort({ path: far.a, baudRate: 9600 });
  const spoiled = { garbage: 0, truncated: 0, clean: 0 };
  let n = 0;
  toGateway.on('data', (chunk: Buffer) => toPeer.write(chunk));
  toPeer.on('data', (chunk: Buffer) => {
    n++;
    if (n % 4 === 0) {
      spoiled.garbage++;
      toGateway.write(Buffer.concat([Buffer.from([0x00, 0xff, 0x55]), chunk]));
    } else if (n % 5 === 0) {
      spoiled.truncated++;
      toGateway.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
    } else {
      spoiled.clean++;
      toGateway.write(chunk);
    }
  });
  return {
    gatewaySide: near.a,
    peerSide: far.b,
    spoiled,
    stop: async () => {
      await new Promise<void>((r) => toGateway.close(() => r()));
      await new Promise<void>((r) => toPeer.close(() => r()));
      await near.stop();
      await far.stop();
    },
  };
}
