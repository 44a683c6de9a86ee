/**
 * The build coordinator: matches queued requests to connected workers, runs
 * each build's steps in order on its worker, stores their logs, and keeps
 * every promise of the core across faults:
 *
 * - a worker that disconnects keeps its builds for `worker_lost_after`; if it
 *   comes back holding its running step, the build carries on (output resent
 *   after the last stored sequence number); if not, the build ends RETRY and
 *   its request is queued again for another worker;
 * - after a master restart (even kill -9), running builds are reloaded from
 *   the store and wait for their workers the same way, so finished steps are
 *   not run again and the running step's log continues without gaps.
 *
 * Decisions (matching, step order, results) are pure functions in
 * `../scheduling/`; this file is the shell that does the I/O. Each build's
 * state changes run one at a time on that build's own promise chain.
 */
import type { Logger } from 'pino';
import type { HeldStep, StepCommand, StepOutcome } from '../../protocol/index.js';
import { redactUrl } from '../changes/redact-url.js';
import { checkoutCommand } from '../checkout/script.js';
import type { ForceInput, LatentInstanceView, MasterControl, WorkerView } from '../api/control.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { BuilderConfig, CheckoutConfig, Config, StepConfig, WorkerConfig } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import type { Build, BuildRequest, Properties, Result, Step } from '../domain.js';
import { ShepherdError } from '../errors.js';
import type { MasterEventBus } from '../events.js';
import { StepLog } from '../logs/step-log.js';
import { checkoutTarget } from '../scheduling/checkout-target.js';
import { collapseGroup, type CollapsedGroup } from '../scheduling/collapse.js';
import { renderStep } from '../scheduling/interpolate.js';
import { assignRequests, type WorkerSelector, type WorkerSlot } from '../scheduling/match.js';
import {
  buildResult,
  haltAfter,
  nextStepIndex,
  plannedSteps,
  stepResultFromOutcome,
  type HaltReason,
  type PlannedStep,
  type PlannedStepConfig,
} from '../scheduling/step-plan.js';
import { collectSpec } from '../files/collect-spec.js';
import type { UploadSink } from '../files/upload-sink.js';
import type { JunitFile, StepContext, StepTestsOutcome } from '../tests/test-results-service.js';
import { rerunCommand } from '../tests/rerun.js';
import { uptimeRatio } from '../fleet/uptime.js';
import type { MaintenanceWindow, RegisteredWorker, Store, WorkerSession } from '../store/store.js';
import { nightlyProblem } from '../schedulers/nightly.js';
import { WorkerCredentials, type Authentication, type TokenCredential, type WorkerVerdict } from '../workers/credentials.js';
import type { ConnectedWorker, WorkerSessionHandler } from '../workers/connected-worker.js';
import { askToKeepWorkdir, keptProperties } from './keep-workdir.js';
import { RequestQueue } from './request-queue.js';

/** The name of the try patch in the checkout step's own directory on the worker. */
const PATCH_FILE = 'try.patch';
// The windows of a worker's uptime figures.
const UPTIME_SHORT_MS = 7 * 86_400_000;
const UPTIME_LONG_MS = 30 * 86_400_000;

/** What the coordinator needs. */
export interface CoordinatorDeps {
  config: Readonly<Config>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  apiToken: string | null;
  /** Each config worker's secret: it connects with it, and its admin may pause it or set its contact (default: none). */
  workerSecrets?: ReadonlyMap<string, string>;
  /** Workers created by approving applications and not retired (the store's; default none). Their names differ from the config's. */
  registered?: readonly RegisteredWorker[];
  /** Where files the workers send back land: a step's result waits until its uploads are stored (default: no uploads). */
  uploads?: Pick<UploadSink, 'settled'>;
  /** Per-test results: a step with `test_results` gets its result from its tests (default: the process's result). */
  testResults?: StepTestResults;
}

/** What the coordinator asks of per-test results (`TestResultsService`, with the stored JUnit files). */
export interface StepTestResults {
  afterStep(context: StepContext): Promise<StepTestsOutcome>;
  afterRerun(context: StepContext, original: StepTestsOutcome): Promise<StepTestsOutcome>;
  /** The step's stored files of kind `test_results`. */
  junitFiles(stepId: number): Promise<JunitFile[]>;
}

/** A build this master is running (or waiting to resume). */
interface ActiveBuild {
  build: Build;
  request: BuildRequest;
  builder: BuilderConfig;
  /** The builder's steps with their re-run steps (`plannedSteps`), index for index with `steps`. */
  plan: PlannedStepConfig<StepConfig>[];
  steps: Step[];
  /** Steps whose failed tests wait for their re-run step: the configured step's index → what its tests decided. */
  reruns: Map<number, StepTestsOutcome>;
  /** Index of the running step, or of the last one that finished (-1: none yet). */
  current: number;
  running: { step: Step; log: StepLog } | null;
  halt: HaltReason;
  cancelled: boolean;
  /** Set when the build cannot proceed until its worker (re)connects. */
  waitingForWorker: boolean;
  done: boolean;
  /** State changes of this build run one after another on this chain. */
  chain: Promise<void>;
}

/** A worker's live state: one from the config file, one registered by approving an application, or an on-demand instance. */
interface WorkerState {
  config: WorkerConfig;
  source: 'config' | 'registered' | 'latent';
  /** An on-demand instance: what the pool service says of it (pool, state, cost) for the views. */
  instance: (() => LatentInstanceView) | null;
  /** Builds being claimed for it in the store (between the dispatch's choice and the build's start). */
  claiming: number;
  /** Windows its admin set through the CLI or API. */
  maintenance: MaintenanceWindow[];
  connection: ConnectedWorker | null;
  builds: Set<number>;
  lostTimer: TimerHandle | null;
  /** Set by its admin: takes no new builds (running ones finish). */
  paused: { by: string | null; at: number | null } | null;
  contact: string | null;
  notes: string | null;
  /** `missing` or `orphaned` while the fleet says so (from `worker:state` events); null otherwise. */
  absence: 'missing' | 'orphaned' | null;
}

/** Runs builds. Implements the worker session handler and the API's control facade. */
export class Coordinator implements WorkerSessionHandler, MasterControl {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly events: MasterEventBus;
  readonly apiToken: string | null;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #builders: ReadonlyMap<string, BuilderConfig>;
  readonly #selectors: ReadonlyMap<string, WorkerSelector>;
  readonly #workers = new Map<string, WorkerState>();
  readonly #active = new Map<number, ActiveBuild>();
  readonly #credentials: WorkerCredentials;
  readonly #uploads: Pick<UploadSink, 'settled'> | undefined;
  readonly #testResults: StepTestResults | undefined;
  /** Running step id → its build. */
  readonly #stepOwner = new Map<number, ActiveBuild>();
  /**
   * Queued requests, mirrored from the store. This master is the only one
   * that queues today; several masters sharing PostgreSQL will refresh it
   * from the store. Claims stay atomic in the store either way.
   */
  readonly #queue = new RequestQueue();
  #dispatching = false;
  #dispatchAgain = false;
  #dispatchScheduled = false;
  #stopping = false;

  constructor(deps: CoordinatorDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.events = deps.events;
    this.apiToken = deps.apiToken;
    this.#credentials = WorkerCredentials.fromSecrets(deps.workerSecrets ?? new Map());
    this.#uploads = deps.uploads;
    this.#testResults = deps.testResults;
    // The fleet decides when a disconnected worker is missing or orphaned; the views show it.
    this.events.on('worker:state', ({ worker, to }) => {
      const state = this.#workers.get(worker);
      if (state) state.absence = to === 'missing' || to === 'orphaned' ? to : null;
    });
    this.#clock = deps.clock;
    this.#log = deps.logger;
    this.#builders = new Map(deps.config.builders.map((b) => [b.name, b]));
    this.#selectors = new Map(deps.config.builders.map((b) => [b.name, b.workers]));
    for (const worker of deps.config.workers) this.#addWorker(worker, 'config');
    for (const worker of deps.registered ?? []) this.addRegisteredWorker(worker);
  }

  #addWorker(config: WorkerConfig, source: WorkerState['source'], instance: WorkerState['instance'] = null): void {
    this.#workers.set(config.name, {
      config, source, instance, claiming: 0, maintenance: [], connection: null, builds: new Set(), lostTimer: null, paused: null, contact: null, notes: config.notes ?? null, absence: null,
    });
  }

  // ------------------------------------------------------------------ on-demand instances (the pool service's side)

  /**
   * Adds an on-demand instance as a worker with its pool's dimensions, one
   * build at a time. It connects with its one-time token (`credential`), or,
   * adopted after a restart, with the session secret it was given.
   */
  addLatentWorker(name: string, dimensions: Readonly<Record<string, string>>, credential: TokenCredential, describe: () => LatentInstanceView): void {
    if (this.#workers.has(name)) {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `on-demand instance "${name}" clashes with a worker of that name`, { details: { worker: name } });
    }
    this.#addWorker({ name, secret_env: '', protocol: 'shepherd', max_builds: 1, dimensions: { ...dimensions }, admins: [], maintenance: [] }, 'latent', describe);
    this.#credentials.setToken(name, credential);
    this.#scheduleDispatch();
  }

  /**
   * Stops giving an instance builds, before its provider stops it: true when
   * it has none running or being claimed (it may be stopped now), false when
   * one started meanwhile (it keeps running; the pool asks again later).
   */
  drainLatentWorker(name: string): boolean {
    const state = this.#workers.get(name);
    if (!state || state.source !== 'latent') return true;
    if (state.builds.size > 0 || state.claiming > 0) return false;
    state.paused = { by: 'on-demand pool: stopping', at: this.#clock.now() };
    return true;
  }

  /**
   * Forgets a stopped instance: its connection is closed and its credentials
   * go. A build it still held (its agent died mid-build and its machine is
   * gone) cannot come back: it ends RETRY and is queued again at once,
   * rather than waiting for a worker that no longer exists.
   */
  removeLatentWorker(name: string, reason: string): void {
    const state = this.#workers.get(name);
    if (!state || state.source !== 'latent') return;
    for (const id of state.builds) {
      const active = this.#active.get(id);
      if (active) void this.#serial(active, () => this.#giveUp(active, 'RETRY', `on-demand instance ${name} is gone: ${reason}`));
    }
    this.#credentials.delete(name);
    const connection = state.connection;
    if (connection) this.detach(connection, reason); // recorded and announced like any disconnect
    state.lostTimer?.cancel();
    this.#workers.delete(name);
    connection?.close(reason);
  }

  /**
   * Queued requests that no connected worker can take now, in serving order:
   * what is left after assigning the queue to the free slots (the dispatch's
   * own decision, made without waiting for it).
   */
  unservedRequests(): BuildRequest[] {
    const queued = this.#queue.values();
    const taken = new Set(assignRequests(queued, this.#selectors, this.#freeSlots()).map((a) => a.requestId));
    return queued.filter((request) => !taken.has(request.id));
  }

  /** Each builder's worker selector, for deciding which pools can serve it. */
  get selectors(): ReadonlyMap<string, WorkerSelector> {
    return this.#selectors;
  }

  // ------------------------------------------------------------------ workers that join and leave while the master runs

  /** Adds a worker registered by approving an application; it may connect once its secret is collected. */
  addRegisteredWorker(worker: RegisteredWorker): void {
    if (this.#workers.has(worker.name)) {
      const clash = this.#workers.get(worker.name)!.source === 'config' ? 'a worker in the config file' : 'another registered worker';
      throw new ShepherdError('SHEPHERD_E_CONFIG', `worker "${worker.name}" is registered (application ${worker.applicationId}) and is also ${clash}: rename the config file's worker`, {
        details: { worker: worker.name },
      });
    }
    this.#addWorker(registeredWorkerConfig(worker), 'registered');
    this.#credentials.set(worker.name, worker.secretHash);
    this.#scheduleDispatch();
  }

  /** Records the secret a registered worker's volunteer just collected. */
  setWorkerSecretHash(name: string, hash: string): void {
    if (this.#workers.get(name)?.source === 'registered') this.#credentials.set(name, hash);
  }

  /** Whether a worker of that name exists now (config or registered), and where it comes from. */
  workerSource(name: string): WorkerState['source'] | undefined {
    return this.#workers.get(name)?.source;
  }

  /**
   * Removes a retired registered worker: it is disconnected and may not
   * connect again. SHEPHERD_E_CONFLICT while it runs builds (pause it and let
   * them finish) or when it comes from the config file (remove it there).
   */
  removeRegisteredWorker(name: string): void {
    const state = this.#workerState(name);
    if (state.source === 'config') {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `worker "${name}" is defined in the config file: remove it there and restart the master (its history stays)`, { details: { worker: name } });
    }
    if (state.builds.size > 0) {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `worker "${name}" is running builds ${[...state.builds].join(', ')}: pause it, let them finish, then retire it`, { details: { worker: name } });
    }
    this.#credentials.delete(name);
    state.lostTimer?.cancel();
    this.#workers.delete(name);
    state.connection?.close('worker retired');
  }

  /** Checks a worker's name and secret (constant time). */
  verifyWorker(name: string, secret: string): WorkerVerdict {
    return this.#credentials.verify(name, secret);
  }

  // ------------------------------------------------------------------ start-up and shutdown

  /** Reloads builds left running by an earlier master process; they wait for their workers. */
  async recover(): Promise<void> {
    const now = this.#clock.now();
    await this.store.resetWorkerConnections(now);
    for (const flags of await this.store.getWorkerFlags()) {
      const state = this.#workers.get(flags.worker);
      if (!state) continue;
      state.paused = flags.paused ? { by: flags.pausedBy, at: flags.pausedAt } : null;
      state.contact = flags.contact;
      state.notes = flags.notes ?? state.config.notes ?? null;
      state.maintenance = flags.maintenance.map((w) => ({ ...w }));
    }
    for (const request of await this.store.listQueuedRequests()) this.#queue.add(request);
    const running = await this.store.listBuilds({ state: 'running', limit: 1_000_000 });
    for (const build of running) {
      const request = (await this.store.getRequest(build.requestId))!;
      const builder = this.#builders.get(build.builder);
      const worker = this.#workers.get(build.worker);
      const steps = await this.store.getSteps(build.id);
      const active = this.#track(build, request, builder ?? null, steps);
      const runningStep = steps.find((s) => s.state === 'running');
      active.current = runningStep ? runningStep.index : lastFinishedIndex(steps);
      if (runningStep) this.#openLog(active, runningStep);
      if (!builder || !worker) {
        const why = !builder ? `builder ${build.builder} is no longer configured` : `worker ${build.worker} is no longer configured`;
        void this.#serial(active, () => this.#giveUp(active, !builder ? 'EXCEPTION' : 'RETRY', why));
        continue;
      }
      active.halt = replayHalt(active.plan, steps);
      active.waitingForWorker = true;
      worker.builds.add(build.id);
    }
    for (const [name, worker] of this.#workers) {
      if (worker.builds.size > 0) this.#startLostTimer(name, worker);
    }
    if (running.length) this.#log.info({ builds: running.length }, 'resuming builds left running; waiting for their workers');
    this.#scheduleDispatch();
  }

  /** Stops dispatching and stores buffered output; running builds resume at the next start. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const worker of this.#workers.values()) worker.lostTimer?.cancel();
    await Promise.all([...this.#active.values()].map((a) => a.chain));
    await Promise.all([...this.#active.values()].map((a) => a.running?.log.flush()));
    for (const active of this.#active.values()) active.running?.log.dispose();
  }

  // ------------------------------------------------------------------ the API facade

  /** Queues a build request (forced, or from a scheduler); the schedulers' `SubmitRequest`. */
  async force(input: ForceInput): Promise<BuildRequest> {
    const builder = this.#builders.get(input.builder);
    if (!builder) {
      throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no builder named "${input.builder}"`, { details: { builder: input.builder } });
    }
    const request = await this.store.enqueueRequest({
      builder: builder.name,
      priority: input.priority ?? builder.priority,
      properties: input.properties,
      reason: input.reason,
      submittedBy: input.submittedBy,
      submittedAt: this.#clock.now(),
      scheduler: input.scheduler ?? null,
      collapseKey: input.collapseKey ?? null,
      patchId: input.patchId ?? null,
      changeIds: input.changeIds ?? [],
    });
    this.#queue.add(request);
    this.events.emit('build:queued', { request });
    this.#scheduleDispatch();
    return request;
  }

  async cancelBuild(buildId: number, reason: string): Promise<void> {
    const active = this.#active.get(buildId);
    if (!active || active.done) {
      const build = await this.store.getBuild(buildId);
      if (!build) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build with id ${buildId}`);
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `build ${buildId} already finished (${build.result})`);
    }
    await this.#serial(active, async () => {
      if (active.cancelled || active.done) return;
      active.cancelled = true;
      active.halt = 'cancelled';
      this.#log.info({ build: buildId, reason }, 'cancelling build');
      const connection = this.#connectionOf(active);
      if (active.running) {
        if (connection) {
          connection.cancel(active.running.step.id, reason);
          return; // the step's end arrives as CANCELLED and the build goes on to its always_run steps
        }
        await this.#finishRunningStep(active, 'CANCELLED', `cancelled while the worker was disconnected: ${reason}`);
      }
      if (!connection) await this.#finishBuild(active, 'CANCELLED', reason, false);
      else await this.#advance(active);
    });
  }

  async cancelRequest(requestId: number): Promise<BuildRequest> {
    const request = await this.store.cancelQueuedRequest(requestId, this.#clock.now());
    if (!request) {
      const existing = await this.store.getRequest(requestId);
      if (!existing) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build request with id ${requestId}`);
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `request ${requestId} is ${existing.state}, not queued; cancel its build instead`);
    }
    this.#queue.remove(request.id);
    this.events.emit('request:cancelled', { request });
    return request;
  }

  isWorkerSecret(worker: string, secret: string): boolean {
    return this.#credentials.verify(worker, secret) === 'ok';
  }

  async setPaused(worker: string, paused: boolean, by: string): Promise<void> {
    const state = this.#workerState(worker);
    const before = this.#viewState(state);
    const at = this.#clock.now();
    await this.store.setWorkerPaused(worker, paused, by, at);
    state.paused = paused ? { by, at } : null;
    this.#log.info({ worker, by }, paused ? 'worker paused' : 'worker resumed');
    const after = this.#viewState(state);
    if (after !== before) this.events.emit('worker:state', { worker, from: before, to: after });
    if (!paused) this.#scheduleDispatch();
  }

  async setMaintenance(worker: string, windows: MaintenanceWindow[]): Promise<void> {
    const state = this.#workerState(worker);
    await this.store.setWorkerMaintenance(worker, windows);
    state.maintenance = windows.map((w) => ({ ...w }));
  }

  async setContact(worker: string, contact: string | undefined, notes: string | undefined): Promise<void> {
    const state = this.#workerState(worker);
    const next = { contact: contact ?? state.contact, notes: notes ?? state.notes };
    await this.store.setWorkerContact(worker, next.contact, next.notes);
    state.contact = next.contact;
    state.notes = next.notes;
  }

  /** Checks a connecting worker (the hello): like verifyWorker, but spends an on-demand instance's one-time token. */
  authenticateWorker(name: string, secret: string): Authentication {
    return this.#credentials.authenticate(name, secret, this.#clock.now());
  }

  async workers(): Promise<WorkerView[]> {
    // Three queries whatever the fleet's size: presence, sessions of the last 30 days, builds per worker.
    const now = this.#clock.now();
    const [workerRows, sessions, buildsRun] = await Promise.all([
      this.store.listWorkers(),
      this.store.listAllWorkerSessions(now - UPTIME_LONG_MS),
      this.store.countBuildsByWorker(),
    ]);
    const rows = new Map(workerRows.map((r) => [r.name, r]));
    const sessionsOf = new Map<string, WorkerSession[]>();
    for (const session of sessions) sessionsOf.set(session.worker, [...(sessionsOf.get(session.worker) ?? []), session]);
    return [...this.#workers.entries()].map(([name, state]) => {
      const row = rows.get(name);
      const connection = state.connection;
      const info = connection ? { ...connection.info } : (row?.info ?? null);
      const reported = typeof info?.admin === 'string' && info.admin ? info.admin : null;
      // A registered worker's admins are its application's contact until its admin sets another.
      const configured = state.source === 'registered' && state.contact ? [state.contact] : state.config.admins;
      return {
        name,
        dimensions: this.#dimensionsOf(state),
        maxBuilds: state.config.max_builds,
        state: this.#viewState(state),
        admins: configured.length > 0 ? [...configured] : state.contact ? [state.contact] : reported ? [reported] : [],
        adminMismatch: reported !== null && configured.length > 0 && !configured.some((a) => sameAddress(a, reported)),
        notes: state.notes,
        paused: state.paused ? { ...state.paused } : null,
        connected: connection !== null,
        builds: [...state.builds],
        info,
        protocol: connection?.protocol ?? null,
        connectedAt: connection ? (row?.connectedAt ?? null) : null,
        lastSeen: connection ? this.#clock.now() : (row?.lastSeen ?? null),
        uptime: {
          d7: uptimeRatio(sessionsOf.get(name) ?? [], now - UPTIME_SHORT_MS, now),
          d30: uptimeRatio(sessionsOf.get(name) ?? [], now - UPTIME_LONG_MS, now),
        },
        buildsRun: buildsRun[name] ?? 0,
        source: state.source,
        instance: state.instance?.() ?? null,
        maintenance: [
          ...state.config.maintenance.map((w) => ({ cron: w.cron, duration: w.duration, from: 'config' as const })),
          ...reportedMaintenance(info).map((w) => ({ ...w, from: 'agent' as const })),
          ...state.maintenance.map((w) => ({ ...w, from: 'admin' as const })),
        ],
      } satisfies WorkerView;
    });
  }

  async logLength(stepId: number): Promise<number> {
    const live = this.#stepOwner.get(stepId)?.running;
    if (live && live.step.id === stepId) return live.log.length;
    const step = await this.store.getStep(stepId);
    if (!step) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no step with id ${stepId}`);
    return step.logBytes;
  }

  readLog(stepId: number, start: number, end?: number): AsyncIterable<Buffer> {
    const live = this.#stepOwner.get(stepId)?.running;
    if (live && live.step.id === stepId) return live.log.read(start, end);
    return this.store.readLog(stepId, start, end);
  }

  // ------------------------------------------------------------------ the worker session handler

  async attach(connection: ConnectedWorker, held: HeldStep[]): Promise<{ stepId: number; ackedSeq: number }[]> {
    const state = this.#workers.get(connection.name);
    if (!state) throw new Error(`worker ${connection.name} authenticated but is not configured`);
    const previous = state.connection;
    state.connection = connection;
    state.lostTimer?.cancel();
    state.lostTimer = null;
    state.absence = null;
    if (previous && previous !== connection) previous.close('replaced by a newer connection from the same worker');
    const now = this.#clock.now();
    await this.store.recordWorkerConnected(connection.name, { ...connection.info, protocol: connection.protocol, remote: connection.remote }, now);
    this.events.emit('worker:connected', { worker: connection.name, info: { ...connection.info } });

    const heldIds = new Set(held.map((h) => h.step_id));
    const resume: { stepId: number; ackedSeq: number }[] = [];
    for (const h of held) {
      const active = this.#stepOwner.get(h.step_id);
      if (!active || active.done || active.build.worker !== connection.name || active.running?.step.id !== h.step_id) continue;
      await active.running.log.flush();
      resume.push({ stepId: h.step_id, ackedSeq: active.running.log.storedSeq });
    }
    for (const buildId of state.builds) {
      const active = this.#active.get(buildId);
      if (!active || active.done) continue;
      const wasWaiting = active.waitingForWorker;
      active.waitingForWorker = false;
      if (active.running && !heldIds.has(active.running.step.id)) {
        // The agent no longer has the step (it restarted): the step's process is gone.
        void this.#serial(active, () => this.#giveUp(active, 'RETRY', `worker ${connection.name} reconnected without step ${active.running?.step.name}: it was lost`));
      } else if (!active.running && wasWaiting) {
        void this.#serial(active, () => this.#advance(active));
      }
    }
    this.#scheduleDispatch();
    return resume;
  }

  output(connection: ConnectedWorker, stepId: number, seq: number, data: Buffer): void {
    const active = this.#stepOwner.get(stepId);
    if (!active || active.build.worker !== connection.name || active.running?.step.id !== stepId) return;
    active.running.log.append(seq, data);
  }

  stepFinished(connection: ConnectedWorker, stepId: number, lastSeq: number, outcome: StepOutcome, properties: Record<string, string>): void {
    const active = this.#stepOwner.get(stepId);
    if (!active || active.build.worker !== connection.name || active.running?.step.id !== stepId) {
      // Already recorded (a resend after a reconnect) or given up on: let the worker forget it.
      connection.release(stepId);
      return;
    }
    void this.#serial(active, async () => {
      const running = active.running;
      if (!running || running.step.id !== stepId) return;
      if (running.log.receivedSeq < lastSeq) {
        this.#log.warn({ step: stepId, received: running.log.receivedSeq, lastSeq }, 'step finished before all its output arrived');
        running.log.note(`\n[shepherd] output chunks ${running.log.receivedSeq + 1}..${lastSeq} never arrived\n`);
      }
      if (Object.keys(properties).length > 0) {
        active.build = await this.store.updateBuildProperties(active.build.id, properties);
      }
      const stepConfig = active.plan[running.step.index]!;
      // Files the step sent back (artifacts, JUnit XML) arrive before its end: wait until they are stored.
      await this.#uploads?.settled(stepId);
      const fromProcess = stepResultFromOutcome(outcome, {
        timeoutMs: stepConfig.timeout,
        maxTimeMs: stepConfig.max_time ?? 0,
      });
      const { result, summary } = await this.#withTests(active, stepConfig, fromProcess);
      await this.#finishRunningStep(active, result, summary, outcome);
      connection.release(stepId);
      await this.#advance(active);
    });
  }

  detach(connection: ConnectedWorker, reason: string): void {
    const state = this.#workers.get(connection.name);
    if (!state || state.connection !== connection) return; // replaced by a newer connection
    state.connection = null;
    if (this.#stopping) return;
    this.#log.info({ worker: connection.name, reason, builds: state.builds.size }, 'worker disconnected');
    void this.store.recordWorkerDisconnected(connection.name, this.#clock.now()).catch((error: unknown) =>
      this.#log.error({ err: error }, 'recording worker disconnect failed'),
    );
    this.events.emit('worker:disconnected', { worker: connection.name, reason });
    if (state.builds.size > 0) this.#startLostTimer(connection.name, state);
  }

  // ------------------------------------------------------------------ dispatch

  #scheduleDispatch(): void {
    if (this.#dispatchScheduled || this.#stopping) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      void this.#dispatch();
    });
  }

  async #dispatch(): Promise<void> {
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        // The queue first: every worker's connect asks for a pass, and listing a big farm's free slots each time adds up.
        if (this.#queue.size === 0 || this.#stopping) break;
        const slots = this.#freeSlots();
        if (slots.length === 0) break;
        const queued = this.#queue.values();
        const byId = new Map(queued.map((r) => [r.id, r]));
        const assignments = assignRequests(queued, this.#selectors, slots);
        // Taken off the queue before any await, so no later pass assigns them again.
        const groups = assignments.map(({ requestId, worker }) => {
          const head = byId.get(requestId)!;
          const group = collapseGroup(head, this.#queue.values(), this.#builders.get(head.builder)?.collapse ?? true);
          this.#queue.remove(head.id);
          for (const merged of group.merged) this.#queue.remove(merged.id);
          return { group, worker };
        });
        for (const { group, worker } of groups) {
          try {
            await this.#startBuild(group, worker);
          } catch (error) {
            // Still queued in the store: keep them queued here too and try again at the next pass.
            for (const request of [group.head, ...group.merged]) this.#queue.add(request);
            throw error;
          }
        }
      } while (this.#dispatchAgain);
    } catch (error) {
      this.#log.error({ err: error }, 'dispatch failed');
    } finally {
      this.#dispatching = false;
    }
  }

  /** Connected, unpaused workers with room for another build. */
  #freeSlots(): WorkerSlot[] {
    const slots: WorkerSlot[] = [];
    for (const [name, state] of this.#workers) {
      const running = state.builds.size + state.claiming;
      if (state.connection && !state.paused && running < state.config.max_builds) {
        const busyBuilders = new Set<string>();
        for (const id of state.builds) busyBuilders.add(this.#active.get(id)?.build.builder ?? '');
        slots.push({ name, dimensions: this.#dimensionsOf(state), maxBuilds: state.config.max_builds, running, busyBuilders });
      }
    }
    return slots;
  }

  async #startBuild(group: CollapsedGroup, workerName: string): Promise<void> {
    const request = group.head;
    const builder = this.#builders.get(request.builder)!;
    // Assigned before an earlier start of this pass awaited the store: the
    // worker may have left, been paused or been drained (an on-demand
    // instance about to stop) since. Then the group waits for the next pass.
    const worker = this.#workers.get(workerName);
    if (!worker || !worker.connection || worker.paused) {
      for (const r of [group.head, ...group.merged]) this.#queue.add(r);
      return;
    }
    // A collapsed build builds the newest revision of its group.
    const properties: Properties = {
      revision: '',
      branch: '',
      ...builder.properties,
      ...group.newest.properties,
      builder: builder.name,
      worker: workerName,
    };
    // Counted while the store claims it, so an on-demand instance is not drained meanwhile.
    worker.claiming++;
    let started;
    try {
      started = await this.store.startBuild({
        requestId: request.id,
        builder: builder.name,
        worker: workerName,
        properties,
        steps: plannedSteps(builder.steps).map((s) => s.name),
        startedAt: this.#clock.now(),
        collapse: group.merged.map((r) => r.id),
      });
    } finally {
      worker.claiming--;
    }
    if (!started) return; // cancelled, or taken by another master
    const active = this.#track(started.build, started.request, builder, started.steps);
    worker.builds.add(started.build.id);
    this.#log.info(
      { build: started.build.id, builder: builder.name, number: started.build.number, worker: workerName, collapsed: group.merged.length || undefined },
      'build started',
    );
    this.events.emit('build:started', { build: started.build, request: started.request });
    void this.#serial(active, () => this.#advance(active));
  }

  // ------------------------------------------------------------------ running steps

  /** Starts the next step, or finishes the build when none is left. */
  async #advance(active: ActiveBuild): Promise<void> {
    if (active.done) return;
    const next = nextStepIndex(active.plan, active.current, active.halt);
    const end = next ?? active.steps.length;
    for (let i = active.current + 1; i < end; i++) {
      if (active.steps[i]!.state === 'pending') await this.#skipStep(active, i);
    }
    if (next === null) {
      await this.#finishBuild(active, buildResult(active.steps.map((s) => s.result), active.cancelled), null, false);
      return;
    }
    const connection = this.#connectionOf(active);
    if (!connection) {
      // Between steps with the worker away: carry on when it reconnects (or give up when it is lost).
      active.current = next - 1;
      active.waitingForWorker = true;
      return;
    }
    active.current = next;
    const stepConfig = active.plan[next]!;
    const step = active.steps[next]!;
    // A re-run step runs only the failed tests of its step, if there are any.
    const rerun = stepConfig.rerunOf !== undefined ? active.reruns.get(stepConfig.rerunOf) : undefined;
    if (stepConfig.rerunOf !== undefined && (!rerun || active.cancelled)) {
      await this.#skipStep(active, next, active.cancelled ? 'build cancelled' : 'no failed tests to re-run');
      await this.#advance(active);
      return;
    }
    let rendered;
    let files: StepCommand['files'];
    // What the step shows as its command: a checkout's script holds the repository URL, credentials and all.
    let shown: string | string[] | undefined;
    try {
      let generated: string | undefined;
      if (stepConfig.checkout) ({ run: generated, files, shown } = await this.#checkoutCommand(active, stepConfig.checkout));
      rendered = renderStep(stepConfig, active.build.properties, generated);
      if (rerun) rendered = { ...rendered, run: rerunCommand(rendered.run as string, rerun.failedTests) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      active.steps[next] = await this.store.markStepStarted(step.id, {
        command: stepConfig.run ?? `checkout ${stepConfig.checkout?.source}`,
        workdir: stepConfig.workdir,
        startedAt: this.#clock.now(),
      });
      const log = this.#openLog(active, active.steps[next]!);
      log.note(`[shepherd] ${message}\n`);
      await this.#finishRunningStep(active, 'EXCEPTION', message);
      await this.#advance(active);
      return;
    }
    const collect = collectSpec(stepConfig, this.config.master);
    const startedAt = this.#clock.now();
    active.steps[next] = await this.store.markStepStarted(step.id, { command: shown ?? rendered.run, workdir: rendered.workdir, startedAt });
    this.#openLog(active, active.steps[next]!);
    this.events.emit('step:started', { build: active.build, step: active.steps[next]! });
    connection.startStep(step.id, active.build.id, {
      run: rendered.run,
      env: rendered.env,
      workdir: rendered.workdir,
      builder_dir: active.builder.name,
      timeout_ms: stepConfig.timeout,
      max_time_ms: stepConfig.max_time ?? 0,
      ...(files ? { files } : {}),
      ...(collect ? { collect } : {}),
    });
  }

  /** The script (and try patch) of a checkout step. */
  async #checkoutCommand(active: ActiveBuild, checkout: CheckoutConfig): Promise<{ run: string; files?: StepCommand['files']; shown: string[] }> {
    const source = this.config.changes.find((c) => c.name === checkout.source)!;
    const target = checkoutTarget(checkout, source, active.build.properties);
    let patch: Buffer | undefined;
    if (active.request.patchId !== null) {
      const stored = await this.store.getPatch(active.request.patchId);
      if (!stored) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `try patch ${active.request.patchId} is no longer stored`);
      patch = stored.data;
    }
    const command = checkoutCommand({ ...target, ...(patch ? { patchFile: PATCH_FILE } : {}) }, patch);
    const shown = ['checkout', redactUrl(target.repository), target.branch, target.revision || 'HEAD', ...(patch ? ['+ try patch'] : [])];
    return { ...command, shown };
  }

  #openLog(active: ActiveBuild, step: Step): StepLog {
    const limit = active.plan[step.index]?.max_log_size ?? this.config.master.max_log_size;
    const log = new StepLog(step.id, active.build.id, { bytes: step.logBytes, seq: step.logSeq, truncated: step.logTruncated }, limit, {
      store: this.store,
      events: this.events,
      clock: this.#clock,
      logger: this.#log,
      onStored: (seq) => this.#connectionOf(active)?.ack(step.id, seq),
    });
    active.running = { step, log };
    this.#stepOwner.set(step.id, active);
    return log;
  }

  /** Records the running step's end (after storing all its output). */
  async #finishRunningStep(active: ActiveBuild, result: Result, summary: string | null, outcome?: StepOutcome): Promise<void> {
    const running = active.running!;
    await running.log.flush();
    running.log.dispose();
    const finishedAt = this.#clock.now();
    const step = await this.store.finishStep(running.step.id, {
      result,
      exitCode: outcome?.exit_code ?? null,
      signal: outcome?.signal ?? null,
      summary,
      finishedAt,
    });
    active.steps[step.index] = step;
    active.running = null;
    this.#stepOwner.delete(step.id);
    active.halt = haltAfter(active.plan[step.index]!, result, active.halt);
    this.events.emit('step:finished', { build: active.build, step, durationMs: outcome?.duration_ms ?? finishedAt - (step.startedAt ?? finishedAt) });
  }

  /**
   * A finished step's result from its tests (`test_results`): quarantined
   * failures and tests that pass on re-run do not make it red. A step with
   * `rerun_failed` whose tests failed leaves them to its re-run step; a
   * re-run step settles its step's result (WARNINGS when every failure
   * passed) and the halt in force. The running step's log is stored first,
   * so the parsers read all of it.
   */
  async #withTests(active: ActiveBuild, stepConfig: PlannedStepConfig<StepConfig>, fromProcess: { result: Result; summary: string | null }) {
    const tests = this.#testResults;
    const running = active.running!;
    if (!tests || !stepConfig.test_results || active.cancelled) return fromProcess;
    await running.log.flush();
    const context: StepContext = {
      build: active.build,
      step: running.step,
      stepConfig,
      workerDimensions: this.#dimensionsOf(this.#workers.get(active.build.worker) ?? null),
      processResult: fromProcess.result,
      summary: fromProcess.summary,
      readLog: () => this.store.readLog(running.step.id),
      junitFiles: () => tests.junitFiles(running.step.id),
    };
    if (stepConfig.rerunOf === undefined) {
      const outcome = await tests.afterStep(context);
      if (outcome.rerunCommand !== null) active.reruns.set(running.step.index, outcome);
      return { result: outcome.result, summary: outcome.summary };
    }
    const original = active.reruns.get(stepConfig.rerunOf);
    if (!original) return fromProcess;
    active.reruns.delete(stepConfig.rerunOf);
    const settled = await tests.afterRerun(context, original);
    const first = active.steps[stepConfig.rerunOf]!;
    if (settled.result !== first.result || settled.summary !== first.summary) {
      active.steps[first.index] = await this.store.finishStep(first.id, {
        result: settled.result,
        exitCode: first.exitCode,
        signal: first.signal,
        summary: settled.summary,
        finishedAt: first.finishedAt ?? this.#clock.now(),
      });
      active.halt = replayHalt(active.plan, active.steps);
    }
    // The re-run's own result: did the failed tests pass this time.
    return fromProcess;
  }

  async #skipStep(active: ActiveBuild, index: number, why?: string): Promise<void> {
    const step = await this.store.finishStep(active.steps[index]!.id, {
      result: 'SKIPPED',
      exitCode: null,
      signal: null,
      summary: why ?? (active.cancelled ? 'build cancelled' : 'an earlier step failed'),
      finishedAt: this.#clock.now(),
    });
    active.steps[index] = step;
  }

  /** Ends a build that cannot go on (worker lost, builder gone): running step and pending steps included. */
  async #giveUp(active: ActiveBuild, result: 'RETRY' | 'EXCEPTION', why: string): Promise<void> {
    if (active.done) return;
    this.#log.warn({ build: active.build.id, why }, `build ends ${result}`);
    if (active.running) {
      active.running.log.note(`\n[shepherd] ${why}\n`);
      await this.#finishRunningStep(active, result, why);
    }
    for (let i = 0; i < active.steps.length; i++) {
      if (active.steps[i]!.state === 'pending') await this.#skipStep(active, i);
    }
    await this.#finishBuild(active, result, why, result === 'RETRY');
  }

  async #finishBuild(active: ActiveBuild, result: Result, summary: string | null, requeue: boolean): Promise<void> {
    if (active.done) return;
    active.done = true;
    const { build, request } = await this.store.finishBuild(active.build.id, {
      result,
      summary,
      finishedAt: this.#clock.now(),
      requeue,
    });
    active.build = build;
    this.#active.delete(build.id);
    this.#workers.get(build.worker)?.builds.delete(build.id);
    // Before the next build of this builder can start (dispatch runs later): the tree is still this build's.
    const notKept = askToKeepWorkdir(this.#workers.get(build.worker)?.connection ?? null, build, active.builder, active.builder.name, this.#log);
    // Known now (the worker cannot keep it): said on the build, like a worker's own refusal.
    const finished = notKept === null ? build : await this.store.updateBuildProperties(build.id, keptProperties({ path: null, reason: notKept }));
    active.build = finished;
    this.#log.info({ build: build.id, builder: build.builder, number: build.number, result, requeued: requeue }, 'build finished');
    this.events.emit('build:finished', { build: finished, request, requeued: requeue });
    if (requeue) {
      // Every request the build served (collapsed ones too) is queued again in the store.
      for (const queued of await this.store.listQueuedRequests()) {
        if (queued.builder === build.builder && !this.#queue.values().some((r) => r.id === queued.id)) this.#queue.add(queued);
      }
      this.events.emit('build:queued', { request });
    }
    this.#scheduleDispatch();
  }

  // ------------------------------------------------------------------ lost workers

  #startLostTimer(name: string, state: WorkerState): void {
    state.lostTimer?.cancel();
    const after = this.config.master.worker_lost_after;
    state.lostTimer = this.#clock.setTimeout(() => {
      state.lostTimer = null;
      if (state.connection || this.#stopping) return;
      const builds = [...state.builds];
      this.#log.warn({ worker: name, builds }, `worker did not come back within ${formatDuration(after)}: its builds end RETRY`);
      this.events.emit('worker:lost', { worker: name, builds });
      for (const id of builds) {
        const active = this.#active.get(id);
        if (active) void this.#serial(active, () => this.#giveUp(active, 'RETRY', `worker ${name} lost: not back within ${formatDuration(after)}`));
      }
    }, after);
  }

  // ------------------------------------------------------------------ helpers

  #track(build: Build, request: BuildRequest, builder: BuilderConfig | null, steps: Step[]): ActiveBuild {
    const active: ActiveBuild = {
      build,
      request,
      // A build whose builder left the config is only ever given up on; an empty recipe suffices.
      builder: builder ?? { name: build.builder, workers: [], properties: {}, tags: [], collapse: false, priority: 0, steps: [] },
      plan: plannedSteps(builder?.steps ?? []),
      steps,
      reruns: new Map(),
      current: -1,
      running: null,
      halt: null,
      cancelled: false,
      waitingForWorker: false,
      done: false,
      chain: Promise.resolve(),
    };
    this.#active.set(build.id, active);
    return active;
  }

  /** Runs `fn` after every earlier state change of the same build. */
  #serial(active: ActiveBuild, fn: () => Promise<void>): Promise<void> {
    const run = active.chain.then(fn).catch((error: unknown) => {
      this.#log.error({ err: error, build: active.build.id }, 'build state change failed');
    });
    active.chain = run;
    return run;
  }

  #workerState(worker: string): WorkerState {
    const state = this.#workers.get(worker);
    if (!state) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no worker named "${worker}"; GET /api/v1/workers lists them`);
    return state;
  }

  #viewState(state: WorkerState): WorkerView['state'] {
    if (state.connection && state.builds.size > 0) return 'building';
    if (state.paused) return 'paused';
    return state.connection ? 'idle' : (state.absence ?? 'offline');
  }

  #connectionOf(active: ActiveBuild): ConnectedWorker | null {
    return this.#workers.get(active.build.worker)?.connection ?? null;
  }

  #dimensionsOf(state: WorkerState | null): Record<string, string> {
    if (!state) return {};
    return { ...(state.connection?.info.dimensions ?? {}), ...state.config.dimensions };
  }
}

/** A registered worker as the config file would have described it. */
function registeredWorkerConfig(worker: RegisteredWorker): WorkerConfig {
  return {
    name: worker.name,
    // Registered workers authenticate with their collected secret's hash, not an environment variable.
    secret_env: '',
    protocol: 'shepherd',
    max_builds: worker.maxBuilds,
    dimensions: { ...worker.dimensions },
    admins: [...worker.admins],
    ...(worker.notes !== null ? { notes: worker.notes } : {}),
    maintenance: [],
  };
}

/** The maintenance windows the agent reported from its own config; ones with a cron that cannot be read are left out. */
function reportedMaintenance(info: Record<string, unknown> | null): MaintenanceWindow[] {
  const windows = Array.isArray(info?.maintenance) ? info.maintenance : [];
  return windows.flatMap((w: unknown) => {
    const { cron, duration_ms } = (w ?? {}) as { cron?: unknown; duration_ms?: unknown };
    if (typeof cron !== 'string' || typeof duration_ms !== 'number' || !(duration_ms > 0)) return [];
    return nightlyProblem({ cron, timezone: 'UTC' }) ? [] : [{ cron, duration: duration_ms }];
  });
}

/** Whether two "Name <mail>" contacts name the same address (case-insensitively), or are the same text. */
function sameAddress(a: string, b: string): boolean {
  const address = (text: string) => (/<([^>]+)>/.exec(text)?.[1] ?? text).trim().toLowerCase();
  return address(a) === address(b);
}

function lastFinishedIndex(steps: readonly Step[]): number {
  let last = -1;
  for (const step of steps) if (step.state === 'finished') last = step.index;
  return last;
}

/** Recomputes the halt in force from the results of the steps already finished. */
function replayHalt(plan: readonly PlannedStep[], steps: readonly Step[]): HaltReason {
  let halt: HaltReason = null;
  for (const step of steps) {
    if (step.state === 'finished' && step.result && plan[step.index]) halt = haltAfter(plan[step.index]!, step.result, halt);
  }
  return halt;
}
