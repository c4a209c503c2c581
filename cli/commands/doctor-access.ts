/**
 * The doctor's checks of what people use at the gates and doors: each camera and access terminal
 * (has it pushed?), each reader (its device there, open, and has it read anything?) and the
 * visitor pass key. Beside a running gateway they report what it sees (GET /api/health).
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { loadPublicKey } from '../../access/passes.js';
import type { SiteConfig } from '../../config/schema.js';
import { errorMessage } from '../../core/errors.js';
import type { HealthReport } from '../../http/server.js';
import { parseListen } from '../../http/server.js';
import type { Check } from './doctor.js';

export function cameraChecks(config: SiteConfig, health: HealthReport | undefined): Check[] {
  const checks: Check[] = [];
  const { port } = parseListen(config.console.listen);
  for (const d of config.devices) {
    if (d.type !== 'lpr-camera') continue;
    const url = `http://<this gateway's address>:${port}/lpr/${d.id}`;
    const hint = `set the camera's HTTP push (alarm server) to ${url}${d.vendor === 'dahua' ? ' or its ITSAPI platform address to this gateway' : ''}; it must push from ${d.allowFrom.join(', ')} (allowFrom)`;
    if (!health) {
      checks.push({ name: `camera ${d.id}`, result: 'skip', detail: `${d.vendor}: the gateway is not running, so no push can have arrived`, hint });
      continue;
    }
    const cam = health.cameras?.[d.id];
    if (cam?.lastSeenAt) {
      checks.push({ name: `camera ${d.id}`, result: cam.state === 'online' ? 'ok' : 'warn', detail: `${d.vendor}: last push or heartbeat ${cam.lastSeenAt}` });
    } else {
      checks.push({ name: `camera ${d.id}`, result: 'FAIL', detail: `${d.vendor}: nothing received since the gateway started`, hint });
    }
  }
  return checks;
}

/**
 * The visitor pass key, each reader (its device there, and whether it has read anything) and each
 * access terminal (whether it has pushed), with what to do about each.
 */
export function credentialChecks(config: SiteConfig, health: HealthReport | undefined): Check[] {
  const checks: Check[] = [];
  const keyFile = config.access.passes?.publicKey;
  if (keyFile) {
    try {
      loadPublicKey(keyFile);
      checks.push({ name: 'pass key', result: 'ok', detail: `${keyFile}: an Ed25519 public key; QR visitor passes are checked with it` });
    } catch (err) {
      checks.push({ name: 'pass key', result: 'FAIL', detail: `${keyFile}: ${errorMessage(err)}`, hint: "copy the platform's visitor-pass public key (PEM, Ed25519) to that file; until then every QR pass is refused" });
    }
  } else if (config.devices.some((d) => d.type === 'reader' && d.accepts.includes('qr'))) {
    checks.push({ name: 'pass key', result: 'warn', detail: 'readers take QR passes but access.passes.publicKey is not set: every pass is refused', hint: "set access.passes.publicKey to the platform's visitor-pass public key (PEM file)" });
  }
  const { port } = parseListen(config.console.listen);
  for (const d of config.devices) {
    if (d.type === 'reader') {
      const where = d.port ?? d.keyboard!;
      const hint = d.port
        ? `plug the reader in and give its stable name (ls -l /dev/serial/by-id/); check baudRate (${d.baudRate}) against the reader's manual`
        : "plug the reader in and give its event device (ls -l /dev/input/by-id/ | grep event-kbd); the service's user needs read access (group input)";
      const r = health?.readers?.[d.id];
      if (!health || !r) {
        let present = true;
        try {
          accessSync(where, fsConstants.R_OK);
        } catch {
          present = false;
        }
        checks.push(present ? { name: `reader ${d.id}`, result: 'ok', detail: `${where} is there and readable` } : { name: `reader ${d.id}`, result: 'FAIL', detail: `${where} is missing or not readable`, hint });
      } else if (!r.open) {
        checks.push({ name: `reader ${d.id}`, result: 'FAIL', detail: `${where}: ${r.reason ?? 'not open'}`, hint });
      } else if (!r.lastReadAt) {
        checks.push({ name: `reader ${d.id}`, result: 'warn', detail: `${where} is open but has sent nothing since the gateway started`, hint: `show it a card or a pass; if nothing arrives, check its wiring and its output mode (${d.port ? 'serial, ending each read with CR/LF' : 'USB keyboard, Enter after each read'})` });
      } else {
        checks.push({ name: `reader ${d.id}`, result: 'ok', detail: `${where}: last read ${r.lastReadAt}` });
      }
    }
    if (d.type === 'access-terminal') {
      const hint = `set the terminal's HTTP event push (${d.vendor === 'hikvision' ? 'Event > Alarm Linkage > HTTP listening / httpHosts, JSON' : 'Event > HTTP upload'}) to http://<this gateway's address>:${port}/acs/${d.id}; it must push from ${d.allowFrom.join(', ')} (allowFrom)`;
      const t = health?.terminals?.[d.id];
      if (!health) checks.push({ name: `terminal ${d.id}`, result: 'skip', detail: `${d.vendor}: the gateway is not running, so no push can have arrived`, hint });
      else if (t?.lastSeenAt) checks.push({ name: `terminal ${d.id}`, result: t.state === 'online' ? 'ok' : 'warn', detail: `${d.vendor}: last push ${t.lastSeenAt}` });
      else checks.push({ name: `terminal ${d.id}`, result: 'FAIL', detail: `${d.vendor}: nothing received since the gateway started`, hint });
    }
  }
  return checks;
}
