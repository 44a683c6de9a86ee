/**
 * W4, latency: one forced build of one `true` step on an idle worker, run
 * 50 times in a row. The latency is taken from the master's own records
 * (the request's `submitted_at` to the build's `finished_at`), so the
 * client's HTTP round trips are not counted.
 */
import { join } from 'node:path';
import { waitForBuild } from '../harness/build-waiter.js';
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
import { sleep, type GroupProcess } from '../harness/processes.js';
import { percentile } from '../harness/stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

const RUNS = 50;
/** Runs before the measured ones, not counted: the first builds warm up the JIT and SQLite's page cache. */
const WARM_UP = 3;

function config(): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: [{ name: 'bench-w0', secret_env: 'SECRET_BENCH_W0' }],
    builders: [{ name: 'one', workers: ['bench-w0'], steps: [{ name: 'true', run: 'true' }] }],
  };
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w4');
  const workerSecret = secret();
  let master: MasterProcess | undefined;
  let worker: GroupProcess | undefined;
  let events: EventStream | undefined;
  try {
    master = await startMaster({ dir, config: config(), env: { SHEPHERD_API_TOKEN: secret(), SECRET_BENCH_W0: workerSecret }, launch });
    worker = startWorker({ masterWs: master.workerUrl, name: 'bench-w0', secret: workerSecret, dir: join(dir, 'bench-w0') });
    await waitForWorkers(master.api, ['bench-w0']);
    events = await EventStream.open(master.url, ['build:finished']);
    await sleep(500);

    progress(`W4: ${WARM_UP} warm-up builds, then ${RUNS} measured, one at a time`);
    const masterMs: number[] = [];
    const clientMs: number[] = [];
    let measuredFromUs = monotonicUs();
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      if (i === WARM_UP) measuredFromUs = monotonicUs();
      const sent = performance.now();
      const request = await master.api.force('one');
      const finished = await waitForBuild(events, request.id, 30_000);
      if (finished.result !== 'SUCCESS') throw new Error(`build ${finished.buildId} ended ${finished.result}`);
      const build = await master.api.build(finished.buildId);
      if (i < WARM_UP) continue;
      masterMs.push(build.finished_at! - request.submitted_at);
      clientMs.push(finished.receivedAt - sent);
    }
    phase('w4.runs', measuredFromUs, monotonicUs());
    return {
      figures: [
        figure('p50_ms', 'request submitted to build finished, p50', percentile(masterMs, 50), 'ms', 0),
        figure('p95_ms', 'request submitted to build finished, p95', percentile(masterMs, 95), 'ms', 0),
        figure('max_ms', 'request submitted to build finished, max', Math.max(...masterMs), 'ms', 0),
        figure('client_p50_ms', 'client: POST sent to build:finished received, p50', percentile(clientMs, 50), 'ms', 1),
      ],
      notes: [
        `${RUNS} sequential runs (after ${WARM_UP} warm-up runs); times from the master's records, in whole milliseconds:`,
        'the request\'s submitted_at to the build\'s finished_at.',
      ],
    };
  } finally {
    events?.close();
    await stopAll([worker, master]);
    removeTempDir(dir);
  }
}

/** W4. */
export const w4: Workload = { id: 'w4', title: 'latency: one `true` step on an idle worker', run };
