/**
 * A `MasterControl` for the API's tests: a real SQLite store in memory and a
 * real event bus, with just enough of the coordinator's behaviour (force,
 * cancel, worker views) to drive every route. Builds are created through the
 * store, as the coordinator would.
 */
import { parseConfig } from '../config/load.js';
import type { Build, BuildRequest, Step } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { MasterEventBus } from '../events.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { ForceInput, MasterControl, WorkerView } from './control.js';

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
        { name: 'configure', run: './configure' },
        { name: 'compile', run: 'make' },
        { name: 'test', run: ['make', 'check'] },
      ],
    },
    { name: 'mac-build', workers: ['mac-1'], steps: [{ name: 'build', run: 'make' }] },
  ],
};

/** The API token of the test control. */
export const TEST_TOKEN = 'test-token-123';

/** A test control plus helpers to put builds into its store. */
export interface TestControl extends MasterControl {
  /** Called (and awaited) at the start of every `logLength`, so a test can act between subscribe and read. */
  onLogLength: ((stepId: number) => Promise<void> | void) | undefined;
  /** Marks a worker connected in `workers()`. */
  connect(worker: string, info?: Record<string, unknown>): void;
  /** Queues a request and starts its build on `worker`, with the builder's steps pending. */
  startBuild(builder: string, worker: string): Promise<{ build: Build; steps: Step[]; request: BuildRequest }>;
  close(): Promise<void>;
}

/** Builds a test control over a fresh in-memory SQLite store. */
export async function createTestControl(options: { config?: unknown; apiToken?: string | null } = {}): Promise<TestControl> {
  const config = parseConfig(options.config ?? TEST_CONFIG, 'test.yml', '/tmp');
  const store: Store = await openStore('sqlite::memory:');
  const events = new MasterEventBus((event, error) => {
    throw new Error(`listener of ${event} failed: ${String(error)}`);
  });
  const connected = new Map<string, Record<string, unknown>>();
  let now = 1_700_000_000_000;
  const tick = () => (now += 1000);

  const control: TestControl = {
    config,
    store,
    events,
    apiToken: options.apiToken === undefined ? TEST_TOKEN : options.apiToken,
    onLogLength: undefined,

    async force(input: ForceInput) {
      const builder = config.builders.find((b) => b.name === input.builder);
      if (!builder) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no builder named "${input.builder}"`);
      const request = await store.enqueueRequest({
        builder: builder.name,
        priority: input.priority ?? builder.priority,
        properties: { ...builder.properties, ...input.properties },
        reason: input.reason,
        submittedBy: input.submittedBy,
        submittedAt: tick(),
      });
      events.emit('build:queued', { request });
      return request;
    },

    async cancelBuild(buildId, reason) {
      const build = await store.getBuild(buildId);
      if (!build) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build with id ${buildId}`);
      if (build.state === 'finished') throw new ShepherdError('SHEPHERD_E_CONFLICT', `build ${buildId} already finished`);
      const finished = await store.finishBuild(buildId, { result: 'CANCELLED', summary: reason, finishedAt: tick(), requeue: false });
      events.emit('build:finished', { ...finished, requeued: false });
    },

    async cancelRequest(requestId) {
      const request = await store.getRequest(requestId);
      if (!request) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build request with id ${requestId}`);
      const cancelled = await store.cancelQueuedRequest(requestId, tick());
      if (!cancelled) throw new ShepherdError('SHEPHERD_E_CONFLICT', `build request ${requestId} is no longer queued`);
      events.emit('request:cancelled', { request: cancelled });
      return cancelled;
    },

    async workers(): Promise<WorkerView[]> {
      const running = await store.listBuilds({ state: 'running', limit: 1000 });
      return config.workers.map((worker) => {
        const builds = running.filter((b) => b.worker === worker.name).map((b) => b.id);
        const info = connected.get(worker.name) ?? null;
        const isConnected = connected.has(worker.name);
        return {
          name: worker.name,
          dimensions: { ...worker.dimensions },
          maxBuilds: worker.max_builds,
          state: !isConnected ? 'offline' : builds.length > 0 ? 'building' : 'idle',
          connected: isConnected,
          builds,
          info,
          protocol: isConnected ? 'shepherd' : null,
          connectedAt: isConnected ? now : null,
          lastSeen: isConnected ? now : null,
        };
      });
    },

    async logLength(stepId) {
      await control.onLogLength?.(stepId);
      const step = await store.getStep(stepId);
      if (!step) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no step with id ${stepId}`);
      return step.logBytes;
    },

    readLog(stepId, start, end) {
      return store.readLog(stepId, start, end);
    },

    connect(worker, info = { os: 'linux', arch: 'x86_64', admin: 'ops <ops@example.org>' }) {
      connected.set(worker, info);
    },

    async startBuild(builderName, worker) {
      const builder = config.builders.find((b) => b.name === builderName)!;
      const request = await control.force({ builder: builderName, properties: {}, reason: 'test', submittedBy: 'test' });
      const started = await store.startBuild({
        requestId: request.id,
        builder: builderName,
        worker,
        properties: request.properties,
        steps: builder.steps.map((s) => s.name),
        startedAt: tick(),
      });
      if (!started) throw new Error('request was not claimable');
      events.emit('build:started', { build: started.build, request: started.request });
      return started;
    },

    close: () => store.close(),
  };
  return control;
}
