/**
 * The composition root: reads nothing itself, builds every part from the config it is given and
 * passes each its dependencies explicitly. Start order is the safety order: boards open, every
 * output to its safe state, then inputs, timers and the network.
 */
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AccessControl } from '../access/access.js';
import { decidedData } from '../access/access.js';
import type { PendingDecision, PendingOutcome } from '../access/access.js';
import type { SiteConfig } from '../config/schema.js';
import { FireAlarm } from '../devices/fire-alarm.js';
import { createDevice, isLane, loadKinds } from '../devices/factory.js';
import { screenFor } from '../access/screen-messages.js';
import { carParkState } from '../access/car-parks.js';
import type { PushSource } from '../devices/push.js';
import { isPushSource } from '../devices/push.js';
import type { Device, DeviceContext, DeviceSnapshot } from '../devices/types.js';
import type { DigitalIo } from '../drivers/io/types.js';
import type { ModbusBus } from '../drivers/modbus/types.js';
import { TELEMETRY_TYPES } from '../journal/journal.js';
import type { Journal } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import { EventBus } from '../core/event-bus.js';
import type { GatewayBus } from '../devices/messages.js';
import { openBoards, openBuses, pinsOn, retryBoards } from './hardware.js';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { GatewayError, errorMessage } from '../core/errors.js';
import { eventMaker } from '../core/events.js';
import type { EventData, EventMaker, EventType, GatewayEvent } from '../core/events.js';
import type { HealthReport } from '../http/server.js';
import type { Logger } from '../core/log.js';
import { Histogram } from '../core/metrics.js';
import type { Notifier } from './notify.js';
import type { ConfigControl } from './config-control.js';
import type { UpgradeControl } from './upgrade-control.js';
import type { RemoteCommands } from './remote.js';
import { serveHttp } from '../http/serve.js';
import { startJournal } from './storage.js';
import { connectUpstream, forwardNowhere } from './upstream.js';
import { healthReport, metricsPage } from './report.js';
import type { ReportView } from './report.js';
import { Watchdog, watchedLoops } from './watchdog.js';
import { watchedClock } from './clock-watch.js';
import { settleWhenQuiet } from '../core/settle.js';
import type { Settler } from '../core/settle.js';
import type { ClockWatch } from './clock-watch.js';
import type { ClockSyncReading } from '../core/clock-sync.js';

export interface GatewayOptions {
  config: SiteConfig;
  log: Logger;
  version: string;
  clock?: Clock;
  /** Boards built by the caller (tests, the demo); the rest are built from the config. */
  boards?: ReadonlyMap<string, DigitalIo>;
  /** Buses built by the caller; the rest are built from the config. */
  buses?: ReadonlyMap<string, ModbusBus>;
  /** Override console.listen; false to run without HTTP. */
  listen?: string | false;
  /** false: run without a journal (unit tests); otherwise it lives in config.gateway.dataDir. */
  journal?: false;
  /** false: no uplink even if upstream is configured; an object tunes it (tests, benchmarks). */
  uplink?: false | { reconnectMinMs?: number; reconnectMaxMs?: number; window?: number };
  /** systemd's notify socket (READY, WATCHDOG, STOPPING); none when not under systemd. */
  notifier?: Notifier;
  /**
   * Whether the system clock is synchronised: asked of the system (timedatectl) unless a test
   * gives its own reader; false: not watched (trusted).
   */
  clockSync?: false | { read(): Promise<ClockSyncReading> };
  /** remote configuration (config.apply, config.get), when the runner offers it */
  configControl?: ConfigControl;
  /** remote upgrades, when the runner offers them */
  upgradeControl?: UpgradeControl;
  /** Called once the parts are built and before anything starts: subscribe to the event bus here. */
  onBuilt?: (gateway: Gateway) => void;
}

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export class Gateway {
  readonly eventBus: GatewayBus;
  readonly boards = new Map<string, DigitalIo>();
  readonly buses = new Map<string, ModbusBus>();
  readonly devices = new Map<string, Device>();
  readonly clock: Clock;
  journal: Journal | undefined;
  uplink: Uplink | undefined;
  /** plate decisions, visitors waiting for staff, open stays; built on start */
  access!: AccessControl;
  /** devices that push to the gateway over HTTP (cameras, terminals), by id */
  readonly pushSources = new Map<string, PushSource>();
  /** commands from the platform (P/cmd); built on start when an uplink is configured */
  remote: RemoteCommands | undefined;
  private watchdog: Watchdog | undefined;
  private settler: Settler | undefined;
  private readonly clockWatch: ClockWatch | undefined;
  /** time from a camera push or console command to the output written */
  readonly actuation = new Histogram();
  /** camera pushes no camera could take (unknown id, Dahua path from an unlisted address) */
  readonly unmatchedPushes = { refused: 0, 'unknown-camera': 0 };
  /** acknowledgements sent while what they answered was not on disk (a disk refusing writes) */
  acksAtRisk = 0;
  /** events made before the journal is open (the safe-state events of start-up) */
  private early: GatewayEvent[] | undefined = [];
  private readonly startedAt: string;
  private fireAlarm: FireAlarm | undefined;
  private http: FastifyInstance | undefined;
  private readonly makeEvent: EventMaker;
  private readonly log: Logger;
  private phase: Phase = 'idle';
  private readonly cleanups: Array<() => void> = [];
  /** The address the HTTP server listens on, once started. */
  address: { host: string; port: number } | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.log = options.log;
    const timed = watchedClock(options.clock ?? systemClock, options.clockSync, options.log, (type, data) => void this.emit(type, 'gateway', data));
    this.clock = timed.clock;
    this.clockWatch = timed.watch;
    this.eventBus = new EventBus(options.log) as GatewayBus;
    this.makeEvent = eventMaker(options.config.site.id, options.config.gateway.id, this.clock);
    this.startedAt = new Date(this.clock.now()).toISOString();
    // Telemetry is journaled and forwarded, not written to the system log every second.
    this.eventBus.on('event', 'log', (ev) => (TELEMETRY_TYPES.has(ev.type) ? this.log.debug({ event: ev }, ev.type) : this.log.info({ event: ev }, ev.type)));
    this.eventBus.on('event', 'journal', (ev) => {
      if (this.journal) this.journal.append(ev);
      else this.early?.push(ev);
    });
    this.eventBus.on('state', 'uplink', ({ device, state }) => this.uplink?.publishState(device, state));
    this.eventBus.on('carPark', 'uplink', (park) => this.uplink?.publishState(park.id, carParkState(park)));
    // a person at a reader is a push too: the backlog gives way (camera and terminal pushes say so in http/pushes.ts)
    this.eventBus.on('event', 'give-way', (ev) => {
      const by = (ev.data as { by?: unknown }).by;
      if ((ev.type === 'door.unlocked' || ev.type === 'access.denied') && (by === 'qr' || by === 'card')) this.uplink?.siteActive();
    });
    // after a burst of work, once quiet, the heap is given back (core/settle.ts)
    this.eventBus.on('event', 'settle', () => this.settler?.busy());
    options.onBuilt?.(this);
  }

  get state(): Phase {
    return this.phase;
  }

  get fireAlarmActive(): boolean {
    return this.fireAlarm?.active ?? false;
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new GatewayError('INTERNAL', `gateway cannot start from ${this.phase}`);
    this.phase = 'starting';
    const { config } = this.options;
    const hardware = { clock: this.clock, log: this.log };
    // The journal's worker thread and the uplink's modules load while the hardware connects:
    // start-up then costs the longest of them, not their sum. Neither is used before the
    // outputs are safe.
    const journalOpening =
      this.options.journal === false ? undefined : startJournal(config, this.log, (type, data) => this.emit(type, 'journal', data), this.clock);
    const uplinkLoading = this.wantsUplink() ? import('../uplink/uplink.js') : undefined;
    uplinkLoading?.catch(() => undefined);
    // Each kind's class and drivers load only when the site has such a device, meanwhile too.
    const kindsLoading = loadKinds(config.devices);
    kindsLoading.catch(() => undefined);
    // Whether the clock is synchronised is asked while the hardware connects too.
    const clockReading = this.clockWatch
      ?.start()
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'cannot tell whether the clock is synchronised'));
    let runtimes: Awaited<typeof kindsLoading>;
    let boardsFailed: Map<string, string>;
    try {
      await openBuses(config, this.options.buses, this.buses, hardware);
      boardsFailed = await openBoards(config, this.options.boards, this.buses, this.boards, hardware);
      runtimes = await kindsLoading;
    } catch (err) {
      void journalOpening?.then((j) => j.close()).catch(() => undefined);
      throw err;
    }

    const pins = pinsOn(this.boards, this.clock);
    const ctxFor = (device: string): DeviceContext => ({
      clock: this.clock,
      log: this.log.child({ device }),
      emit: (type, data) => this.emit(type, device, data),
      stateChanged: (snapshot) => this.eventBus.emit('state', { device, state: snapshot }),
      output: pins.output,
      input: pins.input,
      fireAlarmActive: () => this.fireAlarmActive,
    });
    const fireInput = config.fireAlarm ? pins.input(config.fireAlarm.input) : undefined;
    this.fireAlarm = new FireAlarm(fireInput, {
      clock: this.clock,
      emit: (type, data) => this.emit(type, 'fire-alarm', data),
      changed: (active) => this.onFireAlarm(active),
    });
    mkdirSync(config.gateway.dataDir, { recursive: true });
    this.access = new AccessControl({
      config,
      dataDir: config.gateway.dataDir,
      clock: this.clock,
      log: this.log.child({ component: 'access' }),
      onPendingDecided: (pending, outcome) => this.onPendingDecided(pending, outcome),
      onPendingChanged: () => this.eventBus.emit('pending', { waiting: this.access.waiting() }),
      onCarParkChanged: (park) => this.eventBus.emit('carPark', park),
      onCarParkCorrected: (park, was, by) =>
        this.emit('car-park.corrected', park.id, { carPark: park.id, used: park.used, was, capacity: park.capacity, ...by }),
    });
    const deviceDeps = {
      buses: this.buses,
      siteDevices: config.devices,
      access: this.access,
      credentials: this.access.credentials,
      device: (id: string) => this.devices.get(id),
      lane: (id: string) => {
        const lane = this.devices.get(id);
        return isLane(lane) ? lane : undefined;
      },
      actuated: (seconds: number) => this.actuation.observe(seconds),
    };
    for (const deviceConfig of config.devices) {
      const device = createDevice(runtimes, deviceConfig, ctxFor(deviceConfig.id), deviceDeps);
      this.devices.set(deviceConfig.id, device);
      if (isPushSource(device)) this.pushSources.set(device.id, device);
    }

    // Safety first: nothing else happens until every output is in its safe state.
    this.fireAlarm.readInitial();
    for (const device of this.devices.values()) device.applySafeState();

    await clockReading;
    await this.openJournal(journalOpening);
    for (const problem of this.access.load()) this.emit('storage.corrupt', 'access', { movedTo: problem.movedTo });

    for (const [id, board] of this.boards) {
      this.cleanups.push(board.onStatus((s) => this.onBoardStatus(id, s.online, s.reason)));
      // A board that could not connect at start (and is being retried) faults its devices now.
      if (!board.online) this.onBoardStatus(id, false, boardsFailed.get(id) ?? board.offlineReason ?? 'not connected');
    }
    if (boardsFailed.size) this.cleanups.push(retryBoards(config, boardsFailed, this.boards, hardware));
    this.fireAlarm.start();
    for (const device of this.devices.values()) device.start();

    await this.startUplink(uplinkLoading);
    if (this.options.listen !== false) {
      const served = await serveHttp(this.options.listen ?? config.console.listen, {
        config,
        log: this.log,
        clock: this.clock,
        devices: this.devices,
        boards: this.boards,
        access: this.access,
        eventBus: this.eventBus,
        pushSources: this.pushSources,
        health: () => this.health(),
        committed: () => this.committed(),
        metrics: () => this.metrics(),
        fireAlarmActive: () => this.fireAlarmActive,
        readEvents: async (q) => (this.journal ? this.journal.read(q) : []),
        audit: (type, data) => this.emit(type, 'console', data),
        actuated: (seconds) => this.actuation.observe(seconds),
        unmatched: (result) => this.unmatchedPushes[result]++,
        pushed: () => this.uplink?.siteActive(),
      });
      this.http = served.http;
      this.address = served.address;
    }
    this.settler = settleWhenQuiet(this.clock);
    this.cleanups.push(() => this.settler?.stop());
    this.phase = 'running';
    this.emit('gateway.started', 'gateway', { version: this.options.version, devices: this.devices.size });
    const notifier = this.options.notifier;
    if (notifier?.enabled) {
      // READY only now: the journal is open and every output has been in its safe state.
      await notifier.send({ READY: 1, MAINPID: process.pid, STATUS: `running: ${this.devices.size} devices` });
      this.watchdog = new Watchdog(notifier, () => watchedLoops(this), this.clock, this.log.child({ component: 'watchdog' }));
      this.watchdog.start();
    }
    this.log.info({ devices: this.devices.size, boards: this.boards.size, http: this.address }, 'gateway started');
  }

  /** Stops accepting work, leaves every output safe and releases the hardware. Idempotent. */
  async stop(reason = 'stop'): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'idle') return;
    this.phase = 'stopping';
    this.watchdog?.stop();
    this.clockWatch?.stop();
    void this.options.notifier?.send({ STOPPING: 1, STATUS: `stopping: ${reason}` });
    this.emit('gateway.stopping', 'gateway', { reason });
    const http = this.http;
    this.http = undefined;
    const closing = http?.close().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'http close failed'));
    this.fireAlarm?.stop();
    for (const device of this.devices.values()) {
      try {
        device.stop();
      } catch (err) {
        this.log.error({ device: device.id, err }, 'device stop failed');
      }
    }
    for (const off of this.cleanups.splice(0)) off();
    const accessSaved = this.access?.stop().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'open stays could not be saved at stop'));
    await closing;
    await accessSaved;
    await this.remote?.flush().catch(() => undefined);
    await this.uplink?.stop().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'uplink stop failed'));
    await this.journal?.close().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'journal close failed'));
    await Promise.allSettled([...this.boards.values()].map((b) => b.close()));
    await Promise.allSettled([...this.buses.values()].map((b) => b.close()));
    this.phase = 'stopped';
    this.log.info({ reason }, 'gateway stopped');
  }

  /**
   * Resolves once everything done so far is on disk: the journal's events up to now, the plate
   * list and the seen command ids. Every "ok" the gateway gives (a camera's 200, a command's
   * reply, an API change) waits here, after the output has moved. A disk that refuses writes
   * does not hold the answer back (gates keep working): the answer goes, counted at risk.
   */
  async committed(): Promise<void> {
    const [journaled] = await Promise.all([
      this.journal?.committed() ?? true,
      this.access?.plates.flush(),
      this.access?.credentials.flush(),
      this.remote?.flush(),
    ]);
    if (!journaled) this.acksAtRisk++;
  }

  health(): HealthReport {
    return healthReport(this.reportView());
  }

  /** The Prometheus page (GET /metrics). */
  metrics(): string {
    return metricsPage(this.reportView());
  }

  private reportView(): ReportView {
    return {
      config: this.options.config,
      version: this.options.version,
      clock: this.clock,
      running: this.phase === 'running',
      uplinkWanted: this.options.config.upstream !== undefined && this.options.uplink !== false,
      devices: this.devices,
      boards: this.boards,
      buses: this.buses,
      pushSources: this.pushSources,
      journal: this.journal,
      uplink: this.uplink,
      remote: this.remote,
      access: this.access,
      actuation: this.actuation,
      unmatchedPushes: this.unmatchedPushes,
      acksAtRisk: this.acksAtRisk,
      fireAlarmActive: this.fireAlarmActive,
    };
  }

  snapshots(): DeviceSnapshot[] {
    return [...this.devices.values()].map((d) => d.snapshot());
  }

  /**
   * The journal is taken into use after the outputs are safe (safety first) and before anything
   * else runs; the events of start-up made meanwhile are journaled as soon as it is open.
   */
  private async openJournal(opening: Promise<Journal> | undefined): Promise<void> {
    if (opening) {
      this.journal = await opening;
      if (this.journal.movedAside) this.emit('storage.corrupt', 'journal', { movedTo: this.journal.movedAside });
    }
    const early = this.early ?? [];
    this.early = undefined;
    if (this.journal) for (const ev of early) this.journal.append(ev);
  }

  private wantsUplink(): boolean {
    return this.options.journal !== false && this.options.uplink !== false && this.options.config.upstream?.mqtt !== undefined;
  }

  /** The uplink (and mqtt.js) is loaded only when the site forwards upstream. */
  private async startUplink(loading: Promise<typeof import('../uplink/uplink.js')> | undefined): Promise<void> {
    const { config } = this.options;
    const mqttConfig = config.upstream?.mqtt;
    if (!this.journal) return;
    if (!mqttConfig || !loading) {
      this.cleanups.push(forwardNowhere(this.journal));
      return;
    }
    const upstream = await connectUpstream(loading, {
      config,
      mqtt: mqttConfig,
      journal: this.journal,
      devices: this.devices,
      access: this.access,
      clock: this.clock,
      log: this.log,
      version: this.options.version,
      startedAt: this.startedAt,
      tuning: this.options.uplink || undefined,
      audit: (data) => this.emit('audit.command', 'gateway', data),
      committed: () => this.committed(),
      configControl: this.options.configControl,
      upgradeControl: this.options.upgradeControl,
    });
    this.remote = upstream.remote;
    this.uplink = upstream.uplink;
  }

  /** Records an event of the gateway's own (the runner's audit.config). */
  record<T extends EventType>(type: T, data: EventData[T]): string {
    return this.emit(type, 'gateway', data);
  }

  private emit<T extends EventType>(type: T, device: string, data: EventData[T]): string {
    const event = this.makeEvent(type, device, data);
    this.eventBus.emit('event', event);
    return event.id;
  }

  private onFireAlarm(active: boolean): void {
    if (active) this.log.warn('FIRE ALARM: releasing every door and lane');
    else this.log.info('fire alarm cleared: doors and lanes back to normal');
    for (const device of this.devices.values()) {
      try {
        device.fireAlarmChanged(active);
      } catch (err) {
        this.log.error({ device: device.id, err }, 'fire alarm release failed');
      }
    }
    this.eventBus.emit('fireAlarm', { active });
  }

  /** Staff, the platform or the timeout decided on a vehicle that was held: open its lane if granted. */
  private onPendingDecided(pending: PendingDecision, outcome: PendingOutcome): void {
    let laneError: string | undefined;
    if (outcome.decision === 'granted') {
      const lane = this.devices.get(pending.lane);
      const result = lane
        ? lane.command('open', { by: outcome.by === 'remote' ? 'remote' : 'console', ...(outcome.user ? { user: outcome.user } : {}) })
        : { ok: false as const, error: 'offline' };
      if (!result.ok) laneError = result.error;
    }
    this.emit('vehicle.decided', pending.camera, decidedData(pending, outcome, laneError));
    const lane = this.devices.get(pending.lane);
    if (isLane(lane) && lane.display) {
      const reason = outcome.decision === 'granted' ? pending.reason : outcome.by === 'timeout' ? 'timeout' : 'staff';
      const facts = {
        decision: outcome.decision,
        reason,
        class: pending.stay.class ?? 'temporary',
        ...(pending.durationSec !== undefined ? { durationSec: pending.durationSec } : {}),
      };
      lane.display.show(screenFor(pending.direction, pending.plate, facts, this.access.screen, new Date(this.clock.now())));
    }
  }

  private onBoardStatus(board: string, online: boolean, reason?: string): void {
    this.log[online ? 'info' : 'error']({ board, reason }, online ? 'io board back online' : 'io board offline');
    for (const device of this.devices.values()) device.boardStatusChanged(board, online, reason);
  }
}
