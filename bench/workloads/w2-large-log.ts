/**
 * W2, a large log: one build whose one step writes 65 MB of base64 text.
 * Measures the time from the force to the build recorded finished (which
 * implies the whole log is stored: the master flushes a step's log before it
 * records the step finished), checks the stored length, and compares with
 * the same command writing to a file.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
import { bestOf, sleep, type GroupProcess } from '../harness/processes.js';
import { PeakRss, cpuSince, cpuTimes, rssKb } from '../harness/proc-stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

/** The step's command: 48 MB of zeros as base64 in 76-column lines, 64,842,106 bytes. */
export const W2_COMMAND = 'head -c 48000000 /dev/zero | base64 -w 76';

function config(): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: [{ name: 'bench-w0', secret_env: 'SECRET_BENCH_W0' }],
    builders: [{ name: 'large-log', workers: ['bench-w0'], steps: [{ name: 'emit', run: W2_COMMAND }] }],
  };
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w2');
  const workerSecret = secret();
  const env = { SHEPHERD_API_TOKEN: secret(), SECRET_BENCH_W0: workerSecret };
  let master: MasterProcess | undefined;
  let worker: GroupProcess | undefined;
  let events: EventStream | undefined;
  let peak: PeakRss | undefined;
  try {
    const expectedBytes = Number(execFileSync('/bin/sh', ['-c', `${W2_COMMAND} | wc -c`], { encoding: 'utf8' }).trim());
    master = await startMaster({ dir, config: config(), env, launch });
    worker = startWorker({ masterWs: master.workerUrl, name: 'bench-w0', secret: workerSecret, dir: join(dir, 'bench-w0') });
    await waitForWorkers(master.api, ['bench-w0']);
    events = await EventStream.open(master.url, ['build:finished']);
    await sleep(500);

    progress(`W2: one step running \`${W2_COMMAND}\` (${expectedBytes} bytes of output)`);
    const rssBeforeKb = rssKb(master.pid);
    peak = new PeakRss(master.pid, 50);
    const cpuBefore = cpuTimes(master.pid);
    const agentBefore = cpuTimes(worker.pid);
    const startedUs = monotonicUs();
    const started = performance.now();
    const request = await master.api.force('large-log');
    const finished = await waitForBuild(events, request.id, 300_000);
    const seconds = (finished.receivedAt - started) / 1000;
    const cpu = cpuSince(cpuBefore, master.pid);
    const agentCpu = cpuSince(agentBefore, worker.pid);
    phase('w2.build', startedUs, monotonicUs());
    const peakKb = peak.stop();

    const build = await master.api.build(finished.buildId);
    const step = build.steps[0];
    if (build.result !== 'SUCCESS' || !step || step.result !== 'SUCCESS') {
      throw new Error(`build ${build.id} ended ${build.result}${step?.summary ? `: ${step.summary}` : ''}`);
    }
    if (step.log.bytes !== expectedBytes || step.log.truncated) {
      throw new Error(`stored log is ${step.log.bytes} bytes${step.log.truncated ? ' (truncated)' : ''}; expected ${expectedBytes}`);
    }
    const masterSideS = (build.finished_at! - request.submitted_at) / 1000;
    await stopAll([worker, master]);

    progress(`W2: ${seconds.toFixed(2)} s; timing the direct run (best of 5)`);
    const out = join(dir, 'direct.out');
    const directS = await bestOf(5, `${W2_COMMAND} > ${out}`);
    rmSync(out, { force: true });
    return {
      figures: [
        figure('seconds', 'force to build finished, log stored', seconds, 's', 2, `master's own records: ${masterSideS.toFixed(2)} s`),
        figure('direct_seconds', 'direct to a file, best of 5', directS, 's', 2, `sh -c '${W2_COMMAND} > FILE'`),
        figure('ratio_to_direct', 'Shepherd / direct', seconds / directS, 'x', 1),
        figure('log_bytes', 'stored log (checked)', step.log.bytes, 'B', 0),
        figure('master_cpu_s', 'master CPU during the build', cpu.totalMs / 1000, 's', 2,
          `user ${cpu.userMs.toFixed(0)} ms + system ${cpu.systemMs.toFixed(0)} ms`),
        figure('agent_cpu_s', 'worker agent CPU during the build', agentCpu.totalMs / 1000, 's', 2,
          `user ${agentCpu.userMs.toFixed(0)} ms + system ${agentCpu.systemMs.toFixed(0)} ms; the step's own processes not counted`),
        figure('master_rss_before_mb', 'master RSS before', rssBeforeKb / 1024, 'MB', 0),
        figure('master_peak_rss_mb', 'master peak RSS (sampled every 50 ms)', peakKb / 1024, 'MB', 0),
      ],
      notes: [`One build, one step; the stored log length checked against \`${W2_COMMAND} | wc -c\`.`],
    };
  } finally {
    peak?.stop();
    events?.close();
    await stopAll([worker, master]);
    removeTempDir(dir);
  }
}

/** W2. */
export const w2: Workload = { id: 'w2', title: 'a 65 MB log: one step of base64 output', run };
