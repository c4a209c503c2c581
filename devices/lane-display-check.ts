/**
 * The cross-checks of a lane's `display` (barriers and bollards share them): a screen fed through
 * a camera needs a Vzenith/Alphadigi camera on the same lane (only their pushes carry bytes to an
 * RS485 port, CONTRACT 8); a screen on a serial port owns that port alone.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import type { LaneDisplayConfig } from '../schema/sections.js';
import type { Check, ReferenceCheck } from './kind.js';

/** Camera vendors whose push replies can carry bytes to the camera's RS485 port. */
export const PASSTHROUGH_VENDORS: readonly string[] = ['vzenith'];

export function laneDisplayReferences(lane: { id: string; display?: LaneDisplayConfig | undefined }, at: string, check: ReferenceCheck): void {
  const display = lane.display;
  if (!display) return;
  if (display.port !== undefined) {
    check.port(display.port, `${at}.display`);
    return;
  }
  if (display.camera === undefined) return;
  const camera = check.device(display.camera);
  const path = `${at}.display.camera`;
  if (camera === 'unchecked') return;
  if (!camera) check.problem(path, `no device "${display.camera}"`);
  else if (camera.type !== 'lpr-camera') check.problem(path, `"${display.camera}" is a ${camera.type}; expected the lpr-camera the screen is wired to`);
  else if (!PASSTHROUGH_VENDORS.includes(String(camera['vendor'])))
    check.problem(
      path,
      `"${display.camera}" is a ${String(camera['vendor'])} camera; only Vzenith/Alphadigi cameras (vendor: vzenith) pass bytes to a screen: wire the screen to a serial port of the gateway instead (display.port)`,
    );
  else if (camera['lane'] !== lane.id)
    check.problem(path, `"${display.camera}" watches lane ${String(camera['lane'])}, not ${lane.id}; a screen is fed through a camera of its own lane`);
}

/**
 * The doctor's look at lane screens: a screen on a serial port needs the port to be there and
 * writable by the service; one fed through a camera is checked by the camera's own line (its
 * pushes and heartbeats carry the frames).
 */
export async function laneScreenDoctor(lanes: ReadonlyArray<{ id: string; display?: LaneDisplayConfig | undefined }>): Promise<Check[]> {
  const checks: Check[] = [];
  for (const lane of lanes) {
    const d = lane.display;
    if (!d) continue;
    if (d.camera !== undefined) {
      checks.push({
        name: `screen ${lane.id}`,
        result: 'ok',
        detail: `through camera ${d.camera}, RS485 port ${d.channel}: it gets the frames in that camera's replies (see its line)`,
      });
      continue;
    }
    try {
      accessSync(d.port!, fsConstants.R_OK | fsConstants.W_OK);
      checks.push({ name: `screen ${lane.id}`, result: 'ok', detail: `${d.port} is there and writable (${d.baudRate} baud, address ${d.address})` });
    } catch {
      checks.push({
        name: `screen ${lane.id}`,
        result: 'FAIL',
        detail: `${d.port} is missing or not writable`,
        hint: "plug the USB-RS485 adapter in and give its stable name (ls -l /dev/serial/by-id/); the service's user needs the dialout group",
      });
    }
  }
  return checks;
}
