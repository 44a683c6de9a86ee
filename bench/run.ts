/**
 * `npm run bench`: runs the W1-W6 workloads against real master and worker
 * processes and prints the figures next to their targets.
 *
 *   node dist/bench/run.js [--json] [--only W1,W3] [--profile DIR]
 *
 * --json prints one JSON object on stdout (progress and the readable report
 * go to stderr); --only runs a subset; --profile starts every master under
 * `node --cpu-prof` and writes its CPU profile to DIR when it stops;
 * --master-node-flags passes more flags to each master's node, and
 * --master-log-level sets the masters' log level (to see what logging costs).
 * Exit status: 0 when every workload ran (missed targets included), 1 when
 * one failed, 2 on a usage error.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { MasterLaunch } from './harness/farm.js';
import { ticksPerSecond } from './harness/proc-stats.js';
import { machine, renderJson, renderText, type WorkloadOutcome } from './report.js';
import { w1 } from './workloads/w1-throughput.js';
import { w2 } from './workloads/w2-large-log.js';
import { w3 } from './workloads/w3-idle-workers.js';
import { w4 } from './workloads/w4-latency.js';
import { w5 } from './workloads/w5-grid.js';
import { w6 } from './workloads/w6-latent.js';
import type { Workload } from './workloads/workload.js';

const WORKLOADS: readonly Workload[] = [w1, w2, w3, w4, w5, w6];

const USAGE = `usage: node dist/bench/run.js [--json] [--only W1,W3] [--profile DIR] [--master-node-flags=FLAGS] [--master-log-level LEVEL]

  --json                     print one JSON object on stdout; progress and the report go to stderr
  --only LIST                run only these workloads (${WORKLOADS.map((w) => w.id.toUpperCase()).join(', ')})
  --profile DIR              run each master under node --cpu-prof, profiles written to DIR
  --master-node-flags=FLAGS  more node flags for each master, e.g. --master-node-flags=--perf-basic-prof
  --master-log-level LEVEL   run the masters with --log-level LEVEL (default: theirs, info)
  -h, --help                 show this help
`;

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

interface Options {
  json: boolean;
  selected: Workload[];
  profileDir: string | undefined;
  masterNodeFlags: string[];
  masterLogLevel: string | undefined;
}

function parse(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        profile: { type: 'string' },
        'master-node-flags': { type: 'string' },
        'master-log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  let selected = [...WORKLOADS];
  if (values.only !== undefined) {
    const ids = values.only.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean);
    const unknown = ids.filter((id) => !WORKLOADS.some((w) => w.id === id));
    if (unknown.length || ids.length === 0) usageError(`--only: unknown workload ${unknown.join(', ') || '(none given)'}`);
    selected = WORKLOADS.filter((w) => ids.includes(w.id));
  }
  return {
    json: values.json,
    selected,
    profileDir: values.profile === undefined ? undefined : resolve(values.profile),
    masterNodeFlags: values['master-node-flags']?.split(/\s+/).filter(Boolean) ?? [],
    masterLogLevel: values['master-log-level'],
  };
}

async function main(): Promise<void> {
  const { json, selected, profileDir, masterNodeFlags, masterLogLevel } = parse();
  const before = { ...machine(), date: new Date().toISOString() };
  const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);
  const outcomes: WorkloadOutcome[] = [];
  const phases: string[] = [];
  for (const workload of selected) {
    const nodeFlags = [...masterNodeFlags];
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      nodeFlags.push('--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${workload.id}-master.cpuprofile`);
    }
    const launch: MasterLaunch = { nodeFlags, logLevel: masterLogLevel };
    progress(`${workload.id.toUpperCase()}: ${workload.title}`);
    const started = performance.now();
    try {
      const phase = (name: string, startUs: number, endUs: number) => {
        if (profileDir) phases.push(`node dist/bench/profile-summary.js ${profileDir}/${workload.id}-master.cpuprofile --from ${startUs} --to ${endUs}   # ${name}`);
      };
      const result = await workload.run({ launch, progress, phase });
      outcomes.push({ id: workload.id, title: workload.title, ok: true, seconds: (performance.now() - started) / 1000, result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      progress(`${workload.id.toUpperCase()} failed: ${message}`);
      outcomes.push({ id: workload.id, title: workload.title, ok: false, seconds: (performance.now() - started) / 1000, error: message });
    }
  }
  const meta = { ...before, clock_tick_ms: 1000 / ticksPerSecond() };
  const text = renderText(outcomes, meta);
  if (json) {
    process.stderr.write(`\n${text}`);
    process.stdout.write(renderJson(outcomes, meta));
  } else {
    process.stdout.write(text);
  }
  if (profileDir) {
    progress(`master CPU profiles in ${profileDir}; to summarise the measured phases:\n${phases.join('\n')}`);
  }
  process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
}

await main();
