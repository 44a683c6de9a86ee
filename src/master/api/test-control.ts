/**
 * The master the API and CLI tests drive: the real `Coordinator` over a fresh
 * in-memory SQLite store, plus helpers that act only through the worker side
 * of the protocol (connect a `TestWorker`, send output, finish steps), so every
 * build, step and log a test sees was produced the way production produces it.
 * Test-only: excluded from the build.
 */
import { pino } from 'pino';
import type { StepOutcome, WorkerInfo } from '../../protocol/index.js';
import { systemClock, type Clock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Build, BuildRequest, Step } from '../domain.js';
import { MasterEventBus } from '../events.js';
import { Coordinator } from '../builds/coordinator.js';
import { openStore } from '../store/open-store.js';
import { TestWorker } from '../workers/test-worker.js';

/** The config the API tests use unless they pass their own. */
export const TEST_CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'linux-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'mac-1', secret_env: 'W2', dimensions: { os: 'macos', arch: 'arm64' } },
  ],
  builders: [
    {
      name: 'unix-tests',
      workers: { os: 'linux' },
      tags: ['unix'],
      properties: { branch: 'main' },
      steps: [
        { name: 'configure', run: './configure', workdir: 'build' },
        { name: 'compile', run: 'make' },
        { name: 'test', run: ['make', 'check'] },
      ],
    },
    { name: 'mac-build', workers: ['mac-1'], steps: [{ name: 'build', run: 'make' }] },
  ],
};

/** The worker secrets of the test control (their admins may pause them and set their contact). */
export const TEST_WORKER_SECRETS: ReadonlyMap<string, string> = new Map([
  ['linux-1', 'linux-1-secret'],
  ['mac-1', 'mac-1-secret'],
]);

/** The API token of the test control. */
export const TEST_TOKEN = 'test-token-123';

/** The info a worker connected by `connect` reports unless told otherwise. */
const DEFAULT_INFO: Partial<WorkerInfo> = { os: 'linux', arch: 'x86_64', admin: 'ops <ops@example.org>' };

/** What a test does from the worker side of the protocol. */
export interface TestHelpers {
  readonly clock: Clock;
  /** Connects (or reconnects) a worker; `held` lists the steps its agent still holds. */
  connect(worker: string, info?: Partial<WorkerInfo>, held?: { step_id: number; last_seq: number }[]): Promise<TestWorker>;
  /** Drops a worker's connection, as a network failure would. */
  disconnect(worker: string, reason?: string): void;
  /** The worker's current connection, if connected. */
  connection(worker: string): TestWorker | undefined;
  /**
   * Forces a request for `builder`, connects `worker` if it is not, and waits
   * until the coordinator has started the build there and sent it its first step.
   */
  startBuild(builder: string, worker: string): Promise<{ build: Build; steps: Step[]; request: BuildRequest }>;
  /** Waits until the request's build has started (on whichever worker the coordinator chose). */
  buildStarted(requestId: number): Promise<Build>;
  /** Resolves with the build's next step that the worker was asked to run and this helper has not handed out yet. */
  nextStep(buildId: number): Promise<Step>;
  /** Sends a chunk of a running step's output from its worker; `seq` defaults to the next one. */
  sendOutput(stepId: number, data: string | Buffer, seq?: number): void;
  /** Resolves once everything sent for the step so far is stored (acked to the worker). */
  stored(stepId: number): Promise<void>;
  /** The step's worker reports its end; resolves with the step as recorded. */
  finishStep(stepId: number, outcome?: Partial<StepOutcome>, lastSeq?: number): Promise<Step>;
  /** Runs the build's remaining steps to the end, each with the outcome `each` returns; resolves with the finished build. */
  runBuild(buildId: number, each?: (step: Step) => Partial<StepOutcome> | void | Promise<Partial<StepOutcome> | void>): Promise<Build>;
  /** Runs the build to the end: every step succeeds, or (FAILURE) the next one fails. */
  finishBuild(buildId: number, result?: 'SUCCESS' | 'FAILURE'): Promise<Build>;
  /** Resolves with the build once it has finished. */
  buildFinished(buildId: number): Promise<Build>;
  /** Stops the coordinator and closes the store. */
  close(): Promise<void>;
}

/** The real coordinator with the helpers above. */
export type TestControl = Coordinator & TestHelpers;

/** Builds a coordinator over a fresh in-memory SQLite store, with no worker connected. */
export async function createTestControl(options: { config?: unknown; apiToken?: string | null; clock?: Clock } = {}): Promise<TestControl> {
  const config = parseConfig(options.config ?? TEST_CONFIG, 'test.yml', '/tmp');
  const store = await openStore('sqlite::memory:');
  const events = new MasterEventBus((event, error) => {
    throw new Error(`listener of ${event} failed: ${String(error)}`);
  });
  const clock = options.clock ?? systemClock;
  const coordinator = new Coordinator({
    config,
    store,
    events,
    clock,
    logger: pino({ level: 'silent' }),
    apiToken: options.apiToken === undefined ? TEST_TOKEN : options.apiToken,
    workerSecrets: TEST_WORKER_SECRETS,
  });
  await coordinator.recover();

  const connections = new Map<string, TestWorker>();
  /** Every connection ever made, so a step can be traced to its worker after a reconnect. */
  const everConnected: TestWorker[] = [];
  const sentSeq = new Map<number, number>();
  const handedOut = new Set<number>();

  function workerOf(stepId: number): TestWorker {
    const first = everConnected.find((w) => w.started.some((s) => s.stepId === stepId));
    const current = first && connections.get(first.name);
    if (!current) throw new Error(`step ${stepId} is not running on a connected test worker`);
    return current;
  }

  /**
   * The first build an event announces that `matches`, or the one `lookUp`
   * finds already there. Subscribed before looking, so an event between the
   * look-up and the subscription is not missed.
   */
  function firstBuild(
    event: 'build:started' | 'build:finished',
    matches: (build: Build) => boolean,
    lookUp: () => Promise<Build | undefined>,
  ): Promise<Build> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (build: Build) => {
        if (settled) return;
        settled = true;
        off();
        resolve(build);
      };
      const off = events.on(event, ({ build }) => {
        if (matches(build)) settle(build);
      });
      void lookUp().then((build) => {
        if (build) settle(build);
      });
    });
  }

  function buildFinished(buildId: number): Promise<Build> {
    return firstBuild('build:finished', (build) => build.id === buildId, async () => {
      const build = await store.getBuild(buildId);
      return build?.state === 'finished' ? build : undefined;
    });
  }

  function buildStarted(requestId: number): Promise<Build> {
    return firstBuild('build:started', (build) => build.requestId === requestId, async () => {
      const request = await store.getRequest(requestId);
      return request?.buildId != null ? store.getBuild(request.buildId) : undefined;
    });
  }

  async function nextStep(buildId: number): Promise<Step> {
    const build = (await store.getBuild(buildId))!;
    for (;;) {
      const worker = connections.get(build.worker);
      if (!worker) throw new Error(`worker ${build.worker} of build ${buildId} is not connected`);
      const started = await worker.stepStarted((s) => s.buildId === buildId && !handedOut.has(s.stepId));
      if (connections.get(build.worker) !== worker) continue;
      handedOut.add(started.stepId);
      return (await store.getStep(started.stepId))!;
    }
  }

  async function finishStep(stepId: number, outcome: Partial<StepOutcome> = {}, lastSeq = sentSeq.get(stepId) ?? 0): Promise<Step> {
    const worker = workerOf(stepId);
    handedOut.add(stepId);
    const done = events.once('step:finished', (p) => p.step.id === stepId);
    coordinator.stepFinished(worker, stepId, lastSeq, {
      exit_code: 0,
      signal: null,
      duration_ms: 10,
      ended_by: null,
      spawn_error: null,
      ...outcome,
    }, {});
    return (await done).step;
  }

  async function runBuild(
    buildId: number,
    each: (step: Step) => Partial<StepOutcome> | void | Promise<Partial<StepOutcome> | void> = () => {},
  ): Promise<Build> {
    const finished = buildFinished(buildId);
    for (;;) {
      const step = await Promise.race([finished.then(() => null), nextStep(buildId)]);
      if (!step) return finished;
      await finishStep(step.id, (await each(step)) ?? {});
    }
  }

  const helpers: TestHelpers = {
    clock,

    async connect(worker, info = {}, held = []) {
      const connection = new TestWorker(worker, { ...DEFAULT_INFO, ...info });
      connections.set(worker, connection);
      everConnected.push(connection);
      await coordinator.attach(connection, held);
      return connection;
    },

    disconnect(worker, reason = 'test disconnect') {
      const connection = connections.get(worker);
      if (!connection) return;
      connections.delete(worker);
      coordinator.detach(connection, reason);
    },

    connection: (worker) => connections.get(worker),

    async startBuild(builder, worker) {
      if (!connections.has(worker)) await helpers.connect(worker);
      const request = await coordinator.force({ builder, properties: {}, reason: 'test', submittedBy: 'test' });
      const build = await buildStarted(request.id);
      if (build.worker !== worker) throw new Error(`build ${build.id} started on ${build.worker}, not ${worker}`);
      await connections.get(worker)!.stepStarted((s) => s.buildId === build.id);
      return { build, steps: await store.getSteps(build.id), request: (await store.getRequest(request.id))! };
    },

    buildStarted,
    nextStep,

    sendOutput(stepId, data, seq = (sentSeq.get(stepId) ?? 0) + 1) {
      sentSeq.set(stepId, Math.max(seq, sentSeq.get(stepId) ?? 0));
      coordinator.output(workerOf(stepId), stepId, seq, Buffer.from(data));
    },

    async stored(stepId) {
      await workerOf(stepId).acked(stepId, sentSeq.get(stepId) ?? 0);
    },

    finishStep,
    runBuild,

    finishBuild(buildId, result = 'SUCCESS') {
      return runBuild(buildId, () => (result === 'FAILURE' ? { exit_code: 1 } : {}));
    },

    buildFinished,

    async close() {
      await coordinator.stop();
      await store.close();
    },
  };
  // The coordinator itself, not a copy: the HTTP server gets the real thing.
  for (const name of Object.keys(helpers)) {
    if (name in coordinator) throw new Error(`test helper ${name} would hide Coordinator.${name}`);
  }
  return Object.assign(coordinator, helpers);
}
