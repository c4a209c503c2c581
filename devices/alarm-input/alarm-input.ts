/**
 * A dry-contact alarm (perimeter fence, smoke, gas, water, panic button).
 *
 * One episode, one report: `alarm.raised` when the input turns active, `alarm.cleared` once it has
 * stayed quiet for clearAfterMs. A fence zone flapping in the wind a thousand times is one
 * episode, its cleared event counting the changes.
 */
import type { AlarmInputConfig, AlarmInputState } from './index.js';
import type { InputPin } from '../../drivers/io/pin.js';
import type { TimerHandle } from '../../core/clock.js';
import { DeviceBase } from '../base.js';
import type { CommandResult, Device, DeviceContext, DeviceSnapshot } from '../types.js';
import { refused } from '../types.js';

export class AlarmInput extends DeviceBase<AlarmInputState> implements Device {
  readonly type = 'alarm-input' as const;
  readonly id: string;
  private readonly sensor: InputPin;
  private episodeStart: number | undefined;
  private changes = 0;
  private clearTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly config: AlarmInputConfig,
    ctx: DeviceContext,
  ) {
    super(ctx);
    this.id = config.id;
    this.sensor = this.input(config.input);
  }

  applySafeState(): void {
    // No outputs.
  }

  start(): void {
    this.sensor.start();
    this.unsubscribe = this.sensor.onChange((active) => this.onChange(active));
    if (this.sensor.active) this.onChange(true);
    this.publishState();
  }

  stop(): void {
    this.unsubscribe?.();
    this.sensor.stop();
    this.ctx.clock.clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
  }

  command(): CommandResult {
    return refused('not-supported', `${this.id} is an alarm input; it has nothing to open or close`);
  }

  fireAlarmChanged(): void {
    // An alarm input reports; it is not released.
  }

  snapshot(): DeviceSnapshot {
    return this.snapshotOf(this.config.name, this.episodeStart === undefined ? 'normal' : 'alarm', { kind: this.config.kind });
  }

  private onChange(active: boolean): void {
    this.changes++;
    if (active) {
      this.ctx.clock.clearTimeout(this.clearTimer);
      this.clearTimer = undefined;
      if (this.episodeStart !== undefined) return;
      this.episodeStart = this.ctx.clock.now();
      this.changes = 1;
      this.ctx.emit('alarm.raised', { kind: this.config.kind });
      this.publishState();
    } else if (this.episodeStart !== undefined) {
      this.clearTimer = this.ctx.clock.setTimeout(() => this.clear(), this.config.clearAfterMs);
    }
  }

  private clear(): void {
    this.clearTimer = undefined;
    const start = this.episodeStart ?? this.ctx.clock.now();
    this.episodeStart = undefined;
    // The end of the episode is when the input went quiet, not when the quiet period ran out.
    const durationMs = this.ctx.clock.now() - this.config.clearAfterMs - start;
    this.ctx.emit('alarm.cleared', { kind: this.config.kind, durationMs, changes: this.changes });
    this.publishState();
  }
}
