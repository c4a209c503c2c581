/**
 * The uplink over TLS to a real mosquitto with a throwaway CA: certificate checks are on by
 * default (an unknown CA is refused and nothing is sent), `tls.ca` trusts the site's CA, and
 * username + passwordFile authenticate. The doctor says the same.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../cli/commands/doctor.js';
import { Gateway } from '../gateway/main.js';
import { siteConfig, silentLog } from './helpers.js';
import { HAVE_MOSQUITTO, until } from './peers/broker.js';
import { freePort } from './peers/modbus.js';
import { HAVE_OPENSSL, serverCertificate } from './peers/tls.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A CA, a server certificate for 127.0.0.1 signed by it, and a mosquitto on TLS with a password. */
async function tlsBroker(): Promise<{ port: number; dir: string; ca: string; passwordFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-tls-'));
  serverCertificate(dir);
  writeFileSync(join(dir, 'passwd'), 'gw-1:gw-1-password\n');
  spawnSync('mosquitto_passwd', ['-U', join(dir, 'passwd')]);
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1\ncafile ${dir}/ca.crt\ncertfile ${dir}/server.crt\nkeyfile ${dir}/server.key\nallow_anonymous false\npassword_file ${dir}/passwd\npersistence false\n${process.getuid?.() === 0 ? 'user root\n' : ''}`,
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  cleanups.push(() => void child.kill('SIGKILL'));
  const passwordFile = join(dir, 'mqtt-password');
  writeFileSync(passwordFile, 'gw-1-password\n');
  const end = Date.now() + 5000;
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
        ca: spawnSync('cat', [join(dir, 'ca.crt')]).stdout,
        username: 'gw-1',
        password: 'gw-1-password',
        reconnectPeriod: 0,
        connectTimeout: 500,
      });
      await probe.endAsync(true);
      break;
    } catch {
      if (Date.now() > end) throw new Error('mosquitto (TLS) did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, dir, ca: join(dir, 'ca.crt'), passwordFile };
}

async function gatewayWith(mqttConfig: Record<string, unknown>) {
  const config = siteConfig({
    upstream: { mqtt: mqttConfig },
    io: [{ id: 'sim', type: 'sim' }],
    devices: [{ id: 'door-a', type: 'door', lock: { io: 'sim', pin: 1 }, lockType: 'fail-secure' }],
  });
  const gateway = new Gateway({ config, log: silentLog, version: 't', listen: false, uplink: { reconnectMinMs: 100, reconnectMaxMs: 300 } });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { gateway, config };
}

describe.runIf((HAVE_MOSQUITTO && HAVE_OPENSSL) || process.env.CI === 'true')('the uplink over TLS (mosquitto)', () => {
  it('refuses a broker whose certificate it cannot verify, by default', async () => {
    const broker = await tlsBroker();
    const { gateway } = await gatewayWith({ url: `mqtts://127.0.0.1:${broker.port}`, username: 'gw-1', passwordFile: broker.passwordFile });
    await new Promise((r) => setTimeout(r, 1500));
    expect(gateway.uplink?.connected).toBe(false);
    expect(gateway.uplink?.stats().published).toBe(0);
  });

  it('trusts the site CA given as tls.ca, logs in with the password file, and forwards events', async () => {
    const broker = await tlsBroker();
    const { gateway, config } = await gatewayWith({
      url: `mqtts://127.0.0.1:${broker.port}`,
      username: 'gw-1',
      passwordFile: broker.passwordFile,
      tls: { ca: broker.ca },
    });
    await until('TLS uplink', () => gateway.uplink?.connected === true, 10_000);
    gateway.devices.get('door-a')!.command('open', { by: 'console', user: 'u' });
    await until('forwarded', () => (gateway.uplink?.stats().acked ?? 0) >= 2, 10_000);
    // and the doctor agrees: verified with the CA, refused with a hint about tls.ca without it
    const configFile = join(broker.dir, 'site.yaml');
    const url = `mqtts://127.0.0.1:${broker.port}`;
    const site = async (tls: boolean) =>
      writeFileSync(
        configFile,
        JSON.stringify({
          site: { id: 'test-site' },
          gateway: { id: 'gw-test', dataDir: config.gateway.dataDir },
          upstream: { mqtt: { url, username: 'gw-1', passwordFile: broker.passwordFile, ...(tls ? { tls: { ca: broker.ca } } : {}) } },
          console: { listen: `127.0.0.1:${await freePort()}` },
        }),
      );
    const doctor = async () =>
      (await runDoctor({ configFile, log: silentLog, timeoutMs: 3000, clockCheck: () => ({ name: 'clock', result: 'ok', detail: '' }) })).find(
        (c) => c.name === 'broker',
      );
    await site(true);
    expect(await doctor()).toMatchObject({ result: 'ok', detail: expect.stringContaining('(TLS verified)') });
    await site(false);
    expect(await doctor()).toMatchObject({ result: 'FAIL', hint: expect.stringContaining('tls.ca') });
  }, 30_000);

  it('refuses a wrong password: nothing forwarded, still retrying', async () => {
    const broker = await tlsBroker();
    writeFileSync(broker.passwordFile, 'wrong\n');
    const { gateway } = await gatewayWith({
      url: `mqtts://127.0.0.1:${broker.port}`,
      username: 'gw-1',
      passwordFile: broker.passwordFile,
      tls: { ca: broker.ca },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(gateway.uplink?.connected).toBe(false);
    expect(gateway.uplink?.stats().reconnects).toBeGreaterThan(0);
  });
});
