/**
 * W6, on-demand start: one forced build of one `true` step that no connected
 * worker can take, so the master's `local` pool (`max_instances: 1`,
 * `idle_timeout: 0`) starts a worker agent process for it and stops it after
 * the build. Run 10 times in a row, each once the previous instance stopped,
 * so every build gets a fresh agent. The times come from the master's own
 * records (request `submitted_at`, instance `started_at`, `connected_at` and
 * `stopped_at`, build `finished_at`), and the build's time is compared with
 * the same build on an already connected worker and with starting the agent
 * and running the step directly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceJson, InstanceListJson } from '../../src/master/api/schemas.js';
import { agentBaseEnv, createLocalProvider } from '../../src/master/latent/providers/local.js';
import { masterTag } from '../../src/master/latent/providers/provider.js';
import { waitForBuild } from '../harness/build-waiter.js';
import { EventStream } from '../harness/event-stream.js';
import {
  WORKER_BUNDLE,
  removeTempDir,
  secret,
  startMaster,
  startWorker,
  stopAll,
  tempDir,
  waitForWorkers,
  type ConfigInput,
  type MasterProcess,
} from '../harness/farm.js';
import { bestOf, sleep, type GroupProcess } from '../harness/processes.js';
import { percentile } from '../harness/stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

const RUNS = 10;
/** On-demand runs before the measured ones, not counted: the first start also reads the bundle from disk and warms the master's start path. */
const WARM_UP = 1;
/** Builds on the connected worker before its measured ones, not counted (as in W4). */
const STATIC_WARM_UP = 3;
const POOL = 'cloud';
/** The master's id (the default): its local instances carry this tag. */
const MASTER_ID = 'shepherd';
/** Quotes `text` for /bin/sh. */
const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The direct run: starting the agent (`--version` loads the whole bundle and
 * exits) and then the step as the agent runs it (`/bin/sh -c true`), in the
 * environment a local instance's agent gets. Not the benchmark's own: a
 * variable like NODE_EXTRA_CA_CERTS alone adds ~60 ms to node's start, which
 * the master does not pass on to its agents.
 */
function directCommand(): string {
  const env = Object.entries(agentBaseEnv(process.env)).map(([key, value]) => shellQuote(`${key}=${value ?? ''}`));
  return `env -i ${env.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(WORKER_BUNDLE)} --version > /dev/null && /bin/sh -c true`;
}

function config(): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: [{ name: 'bench-w0', secret_env: 'SECRET_BENCH_W0' }],
    latent: [{ name: POOL, provider: 'local', dimensions: { pool: POOL }, max_instances: 1, idle_timeout: 0, start_timeout: '1m' }],
    builders: [
      // Selects by dimension, which only the pool's instances have: every build needs a fresh instance.
      { name: 'on-demand', workers: { pool: POOL }, steps: [{ name: 'true', run: 'true' }] },
      // Lists its worker by name, so it never starts an instance: the baseline on a connected worker.
      { name: 'connected', workers: ['bench-w0'], steps: [{ name: 'true', run: 'true' }] },
    ],
  };
}

/** `GET /api/v1/instances`: every instance of the run, stopped ones included. */
async function instances(master: MasterProcess): Promise<InstanceJson[]> {
  const response = await fetch(`${master.url}/api/v1/instances`);
  if (!response.ok) throw new Error(`GET /instances: HTTP ${response.status} ${(await response.text()).slice(0, 500)}`);
  return ((await response.json()) as InstanceListJson).instances;
}

/**
 * Polls until the instance that is not in `seen` has stopped. Polled rather
 * than taken from the event stream: no event says an instance stopped, and
 * its worker name is reused by the next one. The figures come from the
 * master's records, so the polling interval does not enter them.
 */
async function waitForNewInstanceStopped(master: MasterProcess, seen: ReadonlySet<number>, timeoutMs: number): Promise<InstanceJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fresh = (await instances(master)).filter((i) => !seen.has(i.id));
    if (fresh.length > 1) throw new Error(`expected one new instance per build, found ${fresh.map((i) => i.name).join(', ')}`);
    const instance = fresh[0];
    if (instance && instance.stopped_at !== null) return instance;
    if (Date.now() > deadline) throw new Error(`instance ${instance?.name ?? '(none started)'} not stopped ${timeoutMs} ms after its build`);
    await sleep(20);
  }
}

/** The master's `local` provider, seen from outside: `list()` gives the agents still running under its tag. */
function localProvider(dir: string) {
  return createLocalProvider({ baseDir: join(dir, 'data', 'latent'), tag: masterTag(MASTER_ID), bundle: WORKER_BUNDLE, graceMs: 2_000 });
}

/** Stops every agent the master's local pool left running (a master leaves its instances to its next start); how many there were. */
async function stopLocalInstances(dir: string): Promise<number> {
  const provider = localProvider(dir);
  const running = await provider.list();
  await Promise.all(running.map((instance) => provider.stop(instance.id)));
  return running.length;
}

/**
 * Kills the agents of the pool at once, synchronously, from their
 * `instance.json`: for when the benchmark is interrupted or exits mid-run.
 * The harness then kills only the process groups it started itself, and the
 * master's agents lead groups of their own.
 */
function killAgentsNow(dir: string): void {
  const poolDir = join(dir, 'data', 'latent', POOL);
  let names: string[];
  try {
    names = readdirSync(poolDir);
  } catch {
    return; // no instance ever started
  }
  for (const name of names) {
    try {
      const { pid } = JSON.parse(readFileSync(join(poolDir, name, 'instance.json'), 'utf8')) as { pid: number };
      // Only while that pid is still the agent (a pid can be reused once it is gone).
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(WORKER_BUNDLE)) process.kill(-pid, 'SIGKILL');
    } catch {
      // Not running (no state file, or the process is gone).
    }
  }
}

/**
 * Runs `killAgentsNow` before the harness's own handlers (which remove the
 * temp dir, and with it the state files) if the benchmark exits or is
 * interrupted; returns the unregister.
 */
function killAgentsOnExit(dir: string): () => void {
  const kill = () => killAgentsNow(dir);
  process.prependListener('exit', kill);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, kill);
  return () => {
    process.off('exit', kill);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, kill);
  };
}

/** The master's times of one on-demand build, in milliseconds. */
interface ColdRun {
  recorded: number;
  connected: number;
  connectedToFinished: number;
  finished: number;
  stopped: number;
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w6');
  const workerSecret = secret();
  let master: MasterProcess | undefined;
  let worker: GroupProcess | undefined;
  let events: EventStream | undefined;
  const connectedMs: number[] = [];
  const cold: ColdRun[] = [];
  let first: ColdRun | undefined;
  const unregister = killAgentsOnExit(dir);
  try {
    master = await startMaster({ dir, config: config(), env: { SHEPHERD_API_TOKEN: secret(), SECRET_BENCH_W0: workerSecret }, launch });
    worker = startWorker({ masterWs: master.workerUrl, name: 'bench-w0', secret: workerSecret, dir: join(dir, 'bench-w0') });
    await waitForWorkers(master.api, ['bench-w0']);
    events = await EventStream.open(master.url, ['build:finished']);
    await sleep(500);

    progress(`W6: ${STATIC_WARM_UP} warm-up builds, then ${RUNS} measured, on the connected worker`);
    let fromUs = monotonicUs();
    for (let i = 0; i < STATIC_WARM_UP + RUNS; i++) {
      if (i === STATIC_WARM_UP) fromUs = monotonicUs();
      const request = await master.api.force('connected');
      const finished = await waitForBuild(events, request.id, 30_000);
      if (finished.result !== 'SUCCESS') throw new Error(`build ${finished.buildId} ended ${finished.result}`);
      const build = await master.api.build(finished.buildId);
      if (i >= STATIC_WARM_UP) connectedMs.push(build.finished_at! - request.submitted_at);
    }
    phase('w6.connected', fromUs, monotonicUs());

    progress(`W6: ${WARM_UP} warm-up build, then ${RUNS} measured, each on a fresh on-demand instance`);
    const seen = new Set<number>();
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      if (i === WARM_UP) fromUs = monotonicUs();
      const request = await master.api.force('on-demand');
      const finished = await waitForBuild(events, request.id, 60_000);
      if (finished.result !== 'SUCCESS') throw new Error(`build ${finished.buildId} ended ${finished.result}`);
      const build = await master.api.build(finished.buildId);
      // idle_timeout 0: the instance stops after its one build; the next force waits for that, so it gets a fresh one.
      const instance = await waitForNewInstanceStopped(master, seen, 30_000);
      seen.add(instance.id);
      if (build.worker !== instance.name || instance.builds !== 1 || instance.connected_at === null) {
        throw new Error(`build ${build.id} ran on ${build.worker}, expected the new instance ${instance.name} with 1 build (it has ${instance.builds}, state ${instance.state})`);
      }
      const times: ColdRun = {
        recorded: instance.started_at - request.submitted_at,
        connected: instance.connected_at - instance.started_at,
        connectedToFinished: build.finished_at! - instance.connected_at,
        finished: build.finished_at! - request.submitted_at,
        stopped: instance.stopped_at! - build.finished_at!,
      };
      if (i < WARM_UP) first = times;
      else cold.push(times);
    }
    phase('w6.on_demand', fromUs, monotonicUs());
    // Every instance recorded stopped: none of their agents may still run.
    const left = await localProvider(dir).list();
    if (left.length > 0) throw new Error(`agents still running after their instances stopped: ${left.map((i) => i.id).join(', ')}`);
  } finally {
    events?.close();
    await stopAll([worker, master]);
    // A master leaves its instances running for its next start; after a failure one may be left.
    const stopped = await stopLocalInstances(dir);
    if (stopped > 0) progress(`W6: stopped ${stopped} agent(s) the master left running`);
    unregister();
  }
  try {
    const direct = directCommand();
    progress('W6: timing the direct run (best of 5): node dist/shepherd-worker.mjs --version && /bin/sh -c true, in the agents\' environment');
    const directMs = (await bestOf(5, direct, dir)) * 1000;
    const p = (pick: (r: ColdRun) => number, q: number) => percentile(cold.map(pick), q);
    const finishedP50 = p((r) => r.finished, 50);
    const connectedP50 = percentile(connectedMs, 50);
    return {
      figures: [
        figure('recorded_p50_ms', 'force to instance recorded, p50', p((r) => r.recorded, 50), 'ms', 0),
        figure('recorded_p95_ms', 'force to instance recorded, p95', p((r) => r.recorded, 95), 'ms', 0),
        figure('connect_p50_ms', 'instance recorded to agent connected, p50', p((r) => r.connected, 50), 'ms', 0),
        figure('connect_p95_ms', 'instance recorded to agent connected, p95', p((r) => r.connected, 95), 'ms', 0),
        figure('connected_to_finished_p50_ms', 'agent connected to build finished, p50', p((r) => r.connectedToFinished, 50), 'ms', 0),
        figure('p50_ms', 'force to build finished, p50', finishedP50, 'ms', 0),
        figure('p95_ms', 'force to build finished, p95', p((r) => r.finished, 95), 'ms', 0),
        figure('first_ms', 'force to build finished, first start (warm-up)', first!.finished, 'ms', 0),
        figure('stop_p50_ms', 'build finished to instance stopped, p50', p((r) => r.stopped, 50), 'ms', 0),
        figure('stop_p95_ms', 'build finished to instance stopped, p95', p((r) => r.stopped, 95), 'ms', 0),
        figure('connected_p50_ms', 'same build on a connected worker: force to finished, p50', connectedP50, 'ms', 0,
          `p95 ${percentile(connectedMs, 95)} ms`),
        figure('ratio_to_connected', 'on-demand p50 / connected worker p50', finishedP50 / connectedP50, 'x', 1),
        figure('direct_ms', 'direct: agent --version, then the step, best of 5', directMs, 'ms', 0, 'node dist/shepherd-worker.mjs --version && /bin/sh -c true, in the environment local agents get'),
        figure('ratio_to_direct', 'on-demand p50 / direct', finishedP50 / directMs, 'x', 1),
      ],
      notes: [
        `${RUNS} sequential on-demand builds (after ${WARM_UP} warm-up) of one \`true\` step, each on a fresh local instance (max_instances 1, idle_timeout 0),`,
        'forced once the previous instance was recorded stopped; times from the master\'s records, in whole milliseconds:',
        'request submitted_at, instance started_at (recorded before the provider starts the agent), connected_at, stopped_at, build finished_at.',
        `Connected worker: ${RUNS} builds (after ${STATIC_WARM_UP} warm-up) of the same step on another builder of the same master.`,
        `With ${RUNS} samples the nearest-rank p95 is the slowest run. No agent was left running (checked through the local provider).`,
      ],
    };
  } finally {
    removeTempDir(dir);
  }
}

/** W6. */
export const w6: Workload = { id: 'w6', title: 'on-demand start: one `true` step on a fresh local instance', run };
