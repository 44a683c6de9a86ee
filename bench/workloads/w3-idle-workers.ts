/**
 * W3, idle fleet: 5,000 configured workers connected at once, doing nothing
 * but heartbeat. The connections come from simulated protocol clients in a
 * separate process (`idle-clients.ts`). Measures the master's RSS growth per
 * connected worker and its CPU use while the fleet idles.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { removeTempDir, secret, startMaster, stopAll, tempDir, type ConfigInput, type MasterProcess } from '../harness/farm.js';
import { GroupProcess, openFilesLimit, openFilesLimitOf, sleep } from '../harness/processes.js';
import { cpuSince, cpuTimes, rssKb } from '../harness/proc-stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

const COUNT = 5000;
const CONNECT_CONCURRENCY = 200;
const SETTLE_MS = 5_000;
const IDLE_MS = 30_000;
/** Open files each side needs: one socket per worker, plus the usual handful. */
const FILES_NEEDED = COUNT + 1024;
const RAISED_FILES = 65536;

/** The 5,000 secret variables; one distinct secret each, unless the environment would outgrow exec's limits. */
function secretsEnv(): { env: Record<string, string>; shared: boolean } {
  const argMax = Number(execFileSync('getconf', ['ARG_MAX'], { encoding: 'utf8' }).trim()) || 128 * 1024;
  const sizeOf = (env: Record<string, string | undefined>) =>
    Object.entries(env).reduce((sum, [k, v]) => sum + k.length + (v?.length ?? 0) + 2 + 8, 0);
  const distinct: Record<string, string> = {};
  for (let i = 0; i < COUNT; i++) distinct[`SECRET_W${i}`] = secret();
  // Half of ARG_MAX leaves room for the arguments and the inherited environment.
  if (sizeOf(process.env) + sizeOf(distinct) < argMax / 2) return { env: distinct, shared: false };
  const common = secret();
  const shared: Record<string, string> = {};
  for (let i = 0; i < COUNT; i++) shared[`SECRET_W${i}`] = common;
  return { env: shared, shared: true };
}

function config(): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: Array.from({ length: COUNT }, (_, i) => ({ name: `w${i}`, secret_env: `SECRET_W${i}` })),
  };
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w3');
  const secrets = secretsEnv();
  const limit = openFilesLimit();
  const openFiles = limit < FILES_NEEDED ? RAISED_FILES : undefined;
  let master: MasterProcess | undefined;
  let clients: GroupProcess | undefined;
  try {
    master = await startMaster({ dir, config: config(), env: { SHEPHERD_API_TOKEN: secret(), ...secrets.env }, launch, openFiles });
    const masterFiles = openFilesLimitOf(master.pid);
    if (masterFiles < FILES_NEEDED) {
      throw new Error(`the master may open only ${masterFiles} files (ulimit -n) and cannot raise it; ${FILES_NEEDED} are needed`);
    }
    await sleep(3_000); // start-up garbage settles
    const rssBeforeKb = rssKb(master.pid);

    progress(`W3: connecting ${COUNT} idle clients, ${CONNECT_CONCURRENCY} at a time`);
    const startedUs = monotonicUs();
    const started = performance.now();
    clients = new GroupProcess('idle clients', {
      name: 'idle clients',
      command: process.execPath,
      args: [
        join(import.meta.dirname, '..', 'idle-clients.js'),
        '--url', `${master.workerUrl}/worker`,
        '--count', String(COUNT),
        '--concurrency', String(CONNECT_CONCURRENCY),
        '--name-prefix', 'w',
        '--secret-env-prefix', 'SECRET_W',
      ],
      env: { ...process.env, ...secrets.env },
      stdinPipe: true,
      openFiles,
    });
    const dropped: string[] = [];
    clients.onLine((line) => {
      if (line.includes('"event":"closed"')) dropped.push(line);
    });
    const welcomed = await clients.waitForLine(/"event":"(welcomed|error)".*/, 180_000);
    if (welcomed[1] === 'error') throw new Error(`idle clients failed: ${welcomed[0]}`);
    const connectS = (performance.now() - started) / 1000;
    phase('w3.connect', startedUs, monotonicUs());

    progress(`W3: all ${COUNT} welcomed in ${connectS.toFixed(1)} s; settling ${SETTLE_MS / 1000} s, then idling ${IDLE_MS / 1000} s`);
    await sleep(SETTLE_MS);
    const rssAfterKb = rssKb(master.pid);
    const cpuBefore = cpuTimes(master.pid);
    const idleStartUs = monotonicUs();
    await sleep(IDLE_MS);
    const idle = cpuSince(cpuBefore, master.pid);
    phase('w3.idle', idleStartUs, monotonicUs());
    const rssEndKb = rssKb(master.pid);

    // Checked after the measurement: listing 5,000 workers costs the master CPU.
    const connected = (await master.api.workers()).filter((w) => w.connected).length;
    if (connected !== COUNT || dropped.length > 0) {
      throw new Error(`${connected} of ${COUNT} workers connected at the end; ${dropped.length} dropped${dropped[0] ? `, e.g. ${dropped[0]}` : ''}`);
    }
    return {
      figures: [
        figure('connect_s', `time to connect and welcome ${COUNT}`, connectS, 's', 1),
        figure('master_rss_before_mb', 'master RSS before (idle, no workers)', rssBeforeKb / 1024, 'MB', 1),
        figure('master_rss_mb', `master RSS with ${COUNT} connected (after ${SETTLE_MS / 1000} s)`, rssAfterKb / 1024, 'MB', 1),
        figure('rss_kb_per_worker', 'RSS per idle worker', (rssAfterKb - rssBeforeKb) / COUNT, 'KB', 1),
        figure('master_rss_end_mb', `master RSS after ${IDLE_MS / 1000} s idle`, rssEndKb / 1024, 'MB', 1,
          `${((rssEndKb - rssBeforeKb) / COUNT).toFixed(1)} KB per worker by then`),
        figure('idle_cpu_ms', `master CPU over ${IDLE_MS / 1000} s idle`, idle.totalMs, 'ms', 0,
          `user ${idle.userMs.toFixed(0)} ms + system ${idle.systemMs.toFixed(0)} ms`),
        figure('idle_cpu_pct', 'idle CPU, percent of one core', (idle.totalMs / IDLE_MS) * 100, '%', 2),
      ],
      notes: [
        `${COUNT} configured workers w0..w${COUNT - 1}, each with its own secret_env; ` +
          (secrets.shared ? 'one common secret value (the environment would not fit distinct ones).' : 'distinct secrets.'),
        `Clients in a separate process: hello, welcome, then a heartbeat every heartbeat_ms (default 30 s); ` +
          `open-files limit ${limit}${openFiles ? `, raised to ${masterFiles} for both processes` : ' (enough)'}.`,
        'Every worker checked connected through the API at the end; none dropped.',
      ],
    };
  } finally {
    await clients?.stop('SIGKILL');
    await stopAll([master]);
    removeTempDir(dir);
  }
}

/** W3. */
export const w3: Workload = { id: 'w3', title: '5,000 idle workers connected', run };
