/**
 * The cross-checks of a lane's `display` (barriers and bollards share them): a screen fed through
 * a camera needs a Vzenith/Alphadigi camera on the same lane (only their pushes carry bytes to an
 * RS485 port, CONTRACT 8); a screen on a serial port owns that port alone.
 */
import type { LaneDisplayConfig } from '../schema/sections.js';
import type { ReferenceCheck } from './kind.js';

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
