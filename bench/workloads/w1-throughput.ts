/**
 * W1, throughput: 200 builds of 5 `true` steps on 8 single-slot workers.
 * All 200 requests (40 builders forced 5 times) are queued up front, one
 * POST after another, so the master dispatches from a deep queue. Measures
 * steps per second, master CPU per step, and the ratio of the wall time to
 * running the same 1,000 commands directly, 8 at a time.
 */
import { cpus } from 'node:os';
import { BuildCollector } from '../harness/build-waiter.js';
import { EventStream } from '../harness/event-stream.js';
import {
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
import { cpuSince, cpuTimes, rssKb, type CpuTimes } from '../harness/proc-stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

const WORKERS = 8;
const BUILDERS = 40;
const ROUNDS = 5;
const STEPS_PER_BUILD = 5;
const BUILDS = BUILDERS * ROUNDS;
const STEPS = BUILDS * STEPS_PER_BUILD;
/** What the worker runs for each step: `/bin/sh -c true`, so the direct run spawns the same. */
export const W1_DIRECT = `seq ${STEPS} | xargs -P ${WORKERS} -n 1 /bin/sh -c true`;

function config(workers: string[]): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: workers.map((name, i) => ({ name, secret_env: `SECRET_BENCH_W${i}`, max_builds: 1, dimensions: { pool: 'bench' } })),
    builders: Array.from({ length: BUILDERS }, (_, b) => ({
      name: `b${String(b).padStart(2, '0')}`,
      workers: { pool: 'bench' },
      steps: Array.from({ length: STEPS_PER_BUILD }, (_, s) => ({ name: `s${s + 1}`, run: 'true' })),
    })),
  };
}

/** What one batch of 200 builds measured. */
interface Batch {
  wallS: number;
  cpu: CpuTimes & { totalMs: number };
  /** CPU of the 8 agents themselves, and of the step processes they ran. */
  workersCpu: WorkersCpu;
}

interface WorkersCpu {
  agentsMs: number;
  stepsMs: number;
}

/** CPU used so far by the worker agents and by their finished steps. */
function workersCpu(workers: readonly GroupProcess[]): WorkersCpu {
  let agentsMs = 0;
  let allMs = 0;
  for (const worker of workers) {
    const own = cpuTimes(worker.pid);
    const all = cpuTimes(worker.pid, { children: true });
    agentsMs += own.userMs + own.systemMs;
    allMs += all.userMs + all.systemMs;
  }
  return { agentsMs, stepsMs: allMs - agentsMs };
}

/** How busy the machine's cores were with the farm (master, agents, steps) during a batch, in percent. */
function busyPct(batch: Batch): number {
  const cpuMs = batch.cpu.totalMs + batch.workersCpu.agentsMs + batch.workersCpu.stepsMs;
  return (100 * cpuMs) / (batch.wallS * 1000 * cpus().length);
}

/** Queues all 200 requests (one POST after another) and waits for every build to finish. */
async function runBatch(
  master: MasterProcess,
  workers: readonly GroupProcess[],
  events: EventStream,
  phase: WorkloadContext['phase'],
  name: string,
): Promise<Batch> {
  const collector = new BuildCollector(events, BUILDS);
  const cpuBefore = cpuTimes(master.pid);
  const workersBefore = workersCpu(workers);
  const startedUs = monotonicUs();
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    for (let b = 0; b < BUILDERS; b++) await master.api.force(`b${String(b).padStart(2, '0')}`);
  }
  await collector.wait(180_000);
  const cpu = cpuSince(cpuBefore, master.pid);
  const workersAfter = workersCpu(workers);
  phase(name, startedUs, monotonicUs());
  const lastFinished = Math.max(...[...collector.finished.values()].map((f) => f.receivedAt));

  const failed = [...collector.finished.values()].filter((f) => f.result !== 'SUCCESS');
  if (failed.length) throw new Error(`${failed.length} builds did not succeed, e.g. build ${failed[0]!.buildId}: ${failed[0]!.result}`);
  const sample = await master.api.build(collector.finished.values().next().value!.buildId);
  if (sample.steps.length !== STEPS_PER_BUILD || sample.steps.some((s) => s.result !== 'SUCCESS')) {
    throw new Error(`build ${sample.id} does not have ${STEPS_PER_BUILD} successful steps`);
  }
  return {
    wallS: (lastFinished - started) / 1000,
    cpu,
    workersCpu: { agentsMs: workersAfter.agentsMs - workersBefore.agentsMs, stepsMs: workersAfter.stepsMs - workersBefore.stepsMs },
  };
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w1');
  const names = Array.from({ length: WORKERS }, (_, i) => `bench-w${i}`);
  const secrets = names.map(() => secret());
  const env: Record<string, string> = { SHEPHERD_API_TOKEN: secret() };
  secrets.forEach((s, i) => (env[`SECRET_BENCH_W${i}`] = s));
  let master: MasterProcess | undefined;
  const workers: GroupProcess[] = [];
  let events: EventStream | undefined;
  let first: Batch;
  let again: Batch;
  let endRssKb: number;
  try {
    master = await startMaster({ dir, config: config(names), env, launch });
    names.forEach((name, i) => workers.push(startWorker({ masterWs: master!.workerUrl, name, secret: secrets[i]!, dir: `${dir}/${name}` })));
    await waitForWorkers(master.api, names);
    events = await EventStream.open(master.url, ['build:finished']);
    await sleep(500); // let the workers' start-up settle before measuring

    progress(`W1: forcing ${BUILDERS} builders ${ROUNDS} times (${BUILDS} requests queued up front)`);
    first = await runBatch(master, workers, events, phase, 'w1.first');
    // The same again on the now warm master (JIT-compiled code, caches filled): steady state, for comparison.
    progress(`W1: ${STEPS} steps in ${first.wallS.toFixed(2)} s; the same ${BUILDS} builds again on the warm master`);
    await sleep(500);
    again = await runBatch(master, workers, events, phase, 'w1.again');
    endRssKb = rssKb(master.pid);
  } finally {
    events?.close();
    await stopAll([...workers, master]);
  }
  try {
    progress(`W1: timing the direct run: ${W1_DIRECT}`);
    const directS = await bestOf(5, W1_DIRECT, dir);
    const cpuNote = (b: Batch) => `user ${b.cpu.userMs.toFixed(0)} ms + system ${b.cpu.systemMs.toFixed(0)} ms`;
    return {
      figures: [
        figure('wall_s', 'wall time, first force to last build finished', first.wallS, 's', 2),
        figure('steps_per_s', 'steps per second', STEPS / first.wallS, '', 0),
        figure('master_cpu_ms', 'master CPU during the workload', first.cpu.totalMs, 'ms', 0, cpuNote(first)),
        figure('master_cpu_ms_per_step', 'master CPU per step', first.cpu.totalMs / STEPS, 'ms', 3),
        figure('agents_cpu_ms_per_step', 'worker agents CPU per step', first.workersCpu.agentsMs / STEPS, 'ms', 3,
          `the steps' own processes: ${(first.workersCpu.stepsMs / STEPS).toFixed(2)} ms per step`),
        figure('cpu_busy_pct', 'CPU busy, master + agents + steps', busyPct(first), '%', 0, `of ${cpus().length} cores over the wall time`),
        figure('direct_s', 'direct run, best of 5', directS, 's', 2, W1_DIRECT),
        figure('ratio_to_direct', 'wall time / direct', first.wallS / directS, 'x', 1),
        figure('warm_steps_per_s', 'again, warm master: steps per second', STEPS / again.wallS, '', 0,
          `${again.wallS.toFixed(2)} s, ${(again.wallS / directS).toFixed(1)}x direct`),
        figure('warm_master_cpu_ms_per_step', 'again, warm master: master CPU per step', again.cpu.totalMs / STEPS, 'ms', 3, cpuNote(again)),
        figure('master_rss_mb', 'master RSS at the end', endRssKb / 1024, 'MB', 0),
      ],
      notes: [
        `${BUILDS} builds (${BUILDERS} builders x ${ROUNDS} forced rounds, all queued up front, one POST after another) of ${STEPS_PER_BUILD} steps running \`true\` through /bin/sh -c,`,
        `on ${WORKERS} worker processes with max_builds 1, on a freshly started master; every build checked SUCCESS.`,
        `Then the same ${BUILDS} builds again on the same (now warm) master: the "again" lines.`,
      ],
    };
  } finally {
    removeTempDir(dir);
  }
}

/** W1. */
export const w1: Workload = { id: 'w1', title: 'throughput: 200 builds x 5 `true` steps on 8 workers', run };
