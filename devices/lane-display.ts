/**
 * A lane's LED screen and voice (docs/parking.md): what each decision shows and says, and the
 * idle page (spaces left, the time) between them. The frames go out
 *
 * - through the lane's camera (`display.camera`): in the camera's reply to the push that brought
 *   the decision (Vzenith/Alphadigi `serialData`), or, for a decision another camera made and
 *   for the idle page, in the reply to that camera's next heartbeat or push;
 * - on a serial port of the gateway (`display.port`): written at once, each frame answered by
 *   the screen (drivers/screen/serial.ts).
 *
 * Either way the lane has already opened: a screen never delays an output, and a screen that
 * does not answer (or whose port is missing) is the lane's part fault (`DISPLAY_SILENT`,
 * `DISPLAY_OFFLINE`), not a blocked lane.
 */
import type { ScreenShow } from '../access/screen-messages.js';
import { fitCells, idleValues, messagesOf, render } from '../access/screen-messages.js';
import type { Clock } from '../core/clock.js';
import { every } from '../core/clock.js';
import type { FaultCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Rgba } from '../drivers/screen/frames.js';
import { GREEN, MAX_VOICE_BYTES, RED, YELLOW, clockFrame, linesFrame, spacesFrame, voiceFrame } from '../drivers/screen/frames.js';
import { SerialScreen } from '../drivers/screen/serial.js';
import type { LaneDisplayConfig, ScreenConfig, ScreenMessage, ScreenOutcome } from '../schema/sections.js';

/** Bytes for a camera's RS485 port, as its push reply carries them. */
export interface SerialData {
  serialChannel: 0 | 1;
  data: string;
  dataLen: number;
}

/** How often the idle page is looked at (sent again when its text changed, e.g. the minute). */
export const IDLE_CHECK_MS = 5000;
/** The screen's clock is set at start and this often. */
export const CLOCK_EVERY_MS = 6 * 3600_000;
/** Frames waiting for the display camera's next reply, at most (the newest win). */
const MAX_PENDING = 8;

const COLORS: Record<ScreenOutcome, Rgba> = {
  welcome: GREEN,
  renew: YELLOW,
  expired: YELLOW,
  refused: RED,
  full: RED,
  wait: YELLOW,
  goodbye: GREEN,
  pay: YELLOW,
  idle: GREEN,
};

export interface LaneDisplayDeps {
  lane: string;
  screen: ScreenConfig;
  clock: Clock;
  log: Logger;
  /** spaces left in the lane's car park, when it counts for one */
  spacesLeft(): number | undefined;
  /** the screen's fault changed (null: it works) */
  faultChanged(code: FaultCode | null, message?: string): void;
  /** a message went to the screen (the lane's card shows it) */
  shown(): void;
}

export type DisplayState = 'waiting' | 'ok' | 'offline' | 'silent';

export class LaneDisplay {
  private readonly messages: Record<ScreenOutcome, ScreenMessage>;
  private readonly serial: SerialScreen | undefined;
  private pending: Buffer[] = [];
  private lastShown: { outcome: ScreenOutcome; lines: string[]; voice?: string; at: number } | undefined;
  private lastIdle = '';
  private clockSetAt = Number.NEGATIVE_INFINITY;
  private stopIdle: (() => void) | undefined;
  private state: DisplayState = 'waiting';
  private offline = false;
  private silent = false;

  constructor(
    readonly config: LaneDisplayConfig,
    private readonly deps: LaneDisplayDeps,
  ) {
    this.messages = messagesOf(deps.screen);
    if (config.port !== undefined) {
      this.serial = new SerialScreen(
        { port: config.port, baudRate: config.baudRate },
        {
          status: (online, reason) => {
            this.offline = !online;
            this.update(online ? null : 'DISPLAY_OFFLINE', reason);
            if (online) this.refresh();
          },
          answering: (yes) => {
            this.silent = !yes;
            this.update(yes ? null : 'DISPLAY_SILENT', `the screen on ${config.port} does not answer`);
          },
        },
        deps.clock,
      );
    }
  }

  /** The camera whose replies carry this screen's frames, if it is fed through one. */
  get camera(): string | undefined {
    return this.config.camera;
  }

  start(): void {
    this.serial?.start();
    if (this.serial) this.stopIdle = every(this.deps.clock, IDLE_CHECK_MS, () => this.send(this.idleFrames()));
  }

  stop(): void {
    this.stopIdle?.();
    this.serial?.stop();
  }

  /** Shows a decision: at once on a serial screen, or with the display camera's next reply. */
  show(show: ScreenShow): void {
    const m = this.messages[show.outcome];
    const lines = m.lines.map((line) => fitCells(render(line, show.values), this.config.width)).slice(0, this.config.lines);
    const voice = this.config.voice && m.voice !== undefined ? fitCells(render(m.voice, show.values), MAX_VOICE_BYTES) : undefined;
    const frames: Buffer[] = [];
    try {
      if (lines.length) {
        frames.push(
          linesFrame(
            lines.map((text) => ({ text, color: COLORS[show.outcome] })),
            voice,
            { dwellSec: this.deps.screen.dwellSec, repeat: 1, address: this.config.address },
          ),
        );
      } else if (voice) frames.push(voiceFrame(voice, this.config.address));
    } catch (err) {
      // a rendered text the screen cannot take (validate measured the templates; a value was odd)
      this.deps.log.warn({ lane: this.deps.lane, outcome: show.outcome, err: String(err) }, 'lane screen message not sent');
      return;
    }
    this.lastShown = { outcome: show.outcome, lines, ...(voice ? { voice } : {}), at: this.deps.clock.now() };
    this.lastIdle = '';
    this.send(frames, true);
    this.deps.shown();
  }

  /**
   * The frames a camera's reply carries to this screen: what is waiting for it, or the idle page
   * when it is due. Nothing for any other camera.
   */
  takeFor(camera: string): SerialData[] {
    if (camera !== this.config.camera) return [];
    const frames = this.pending.length ? this.pending : this.idleFrames();
    this.pending = [];
    if (frames.length && this.state === 'waiting') this.update(null);
    const channel = this.config.channel;
    return frames.map((f) => ({ serialChannel: channel, data: f.toString('base64'), dataLen: f.length }));
  }

  snapshot(): Record<string, unknown> {
    const shown = this.lastShown;
    return {
      via: this.config.camera !== undefined ? `camera ${this.config.camera}` : this.config.port,
      state: this.state,
      ...(shown
        ? { shown: { outcome: shown.outcome, lines: shown.lines, ...(shown.voice ? { voice: shown.voice } : {}), at: new Date(shown.at).toISOString() } }
        : {}),
      ...(this.serial ? { frames: { ...this.serial.counts } } : {}),
    };
  }

  /** The idle page (and the clock, when due) if the last message has had its time and the page changed. */
  private idleFrames(): Buffer[] {
    const now = this.deps.clock.now();
    if (this.lastShown && now - this.lastShown.at < this.deps.screen.dwellSec * 1000) return [];
    const spaces = this.deps.spacesLeft();
    const frames: Buffer[] = [];
    if (now - this.clockSetAt >= CLOCK_EVERY_MS) {
      const d = new Date(now);
      frames.push(
        clockFrame(
          {
            year: d.getFullYear(),
            month: d.getMonth() + 1,
            day: d.getDate(),
            weekday: d.getDay(),
            hour: d.getHours(),
            minute: d.getMinutes(),
            second: d.getSeconds(),
          },
          this.config.address,
        ),
      );
      this.clockSetAt = now;
    }
    const values = idleValues(spaces, new Date(now));
    const lines = this.messages.idle.lines.map((line) => fitCells(render(line, values), this.config.width)).slice(0, this.config.lines);
    const key = `${lines.join('\n')}|${spaces ?? ''}`;
    if (key !== this.lastIdle) {
      this.lastIdle = key;
      if (this.config.spacesPage && spaces !== undefined) frames.push(spacesFrame(spaces, 0, this.config.address));
      else if (lines.length)
        frames.push(
          linesFrame(
            lines.map((text) => ({ text, color: COLORS.idle })),
            undefined,
            { dwellSec: 0, repeat: 0, address: this.config.address },
          ),
        );
    }
    return frames;
  }

  /** After a port came back: show the idle page again at once. */
  private refresh(): void {
    this.lastIdle = '';
  }

  private send(frames: Buffer[], now = false): void {
    if (!frames.length) return;
    if (this.serial) {
      this.serial.send(frames);
      return;
    }
    // through the camera: an outcome replaces whatever older outcome still waits
    this.pending = now ? frames : [...this.pending, ...frames].slice(-MAX_PENDING);
  }

  private update(code: FaultCode | null, message?: string): void {
    const fault: FaultCode | null = this.offline ? 'DISPLAY_OFFLINE' : this.silent ? 'DISPLAY_SILENT' : code;
    const next: DisplayState = fault === 'DISPLAY_OFFLINE' ? 'offline' : fault === 'DISPLAY_SILENT' ? 'silent' : 'ok';
    if (next === this.state) return;
    this.state = next;
    this.deps.faultChanged(fault, message);
  }
}

/** Makes a lane's display, given how the lane records the screen's fault and shows what it shows. */
export type DisplayMaker = (lane: Pick<LaneDisplayDeps, 'faultChanged' | 'shown'>) => LaneDisplay;

/** The display maker for a lane config with a `display`, from what the factory gives every device. */
export function displayFor(
  lane: { id: string; display?: LaneDisplayConfig | undefined },
  ctx: { clock: Clock; log: Logger },
  access: { screen: ScreenConfig; carParks: { of(lane: string): { id: string } | undefined; state(id: string): { free: number } | undefined } },
): DisplayMaker | undefined {
  const config = lane.display;
  if (!config) return undefined;
  return ({ faultChanged, shown }) =>
    new LaneDisplay(config, {
      shown,
      lane: lane.id,
      screen: access.screen,
      clock: ctx.clock,
      log: ctx.log,
      spacesLeft: () => {
        const park = access.carParks.of(lane.id);
        return park ? access.carParks.state(park.id)?.free : undefined;
      },
      faultChanged,
    });
}
