/**
 * W5, views on a big farm: a SQLite store holding 200 builders' history
 * (5,000 changes, 100,000 finished builds, each blaming the next ten
 * changes, a million blamelist rows) written straight into the database
 * (`harness/bulk-load.ts`), then a real master started on it. Measures what
 * the web UI waits for over HTTP: the grid of the newest 50 changes by every
 * builder (10,000 cells), the grid filtered by a tag, the overview (failing
 * streaks, offline workers, queue) and the builder list.
 */
import { join } from 'node:path';
import type { GridJson, OverviewJson } from '../../src/master/api/schemas.js';
import { loadFarmHistory } from '../harness/bulk-load.js';
import { removeTempDir, secret, startMaster, stopAll, tempDir, type ConfigInput, type MasterProcess } from '../harness/farm.js';
import { percentile } from '../harness/stats.js';
import { figure, monotonicUs, type Workload, type WorkloadContext, type WorkloadResult } from './workload.js';

const BUILDERS = 200;
const CHANGES = 5_000;
const BUILDS_PER_BUILDER = 500;
const WORKERS = 20;
/** Builders whose latest builds fail, for the overview's streaks. */
const FAILING_BUILDERS = 20;
const GRID_CHANGES = 50;
const RUNS = 30;
/** Requests before the measured ones, not counted: JIT, SQLite's page cache, the statement cache. */
const WARM_UP = 3;

const builderName = (i: number) => `builder-${String(i).padStart(3, '0')}`;
const tagOf = (i: number) => `team-${i % 10}`;

function config(): ConfigInput {
  return {
    master: { listen: '127.0.0.1:0', database: 'sqlite:./shepherd.sqlite', data_dir: './data', api_token_env: 'SHEPHERD_API_TOKEN' },
    workers: Array.from({ length: WORKERS }, (_, i) => ({ name: `w${i}`, secret_env: `SECRET_W${i}` })),
    builders: Array.from({ length: BUILDERS }, (_, i) => ({
      name: builderName(i),
      tags: [tagOf(i), i % 2 === 0 ? 'linux' : 'macos'],
      workers: [`w${i % WORKERS}`],
      steps: [{ name: 'make', run: 'make' }],
    })),
  };
}

/** Latencies of `RUNS` sequential GETs after `WARM_UP`, in ms, from sending to the whole body read; and the last body. */
async function measure(url: string): Promise<{ ms: number[]; body: string }> {
  const ms: number[] = [];
  let body = '';
  for (let i = 0; i < WARM_UP + RUNS; i++) {
    const sent = performance.now();
    const response = await fetch(url);
    body = await response.text();
    const took = performance.now() - sent;
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${body.slice(0, 300)}`);
    if (i >= WARM_UP) ms.push(took);
  }
  return { ms, body };
}

async function run({ launch, progress, phase }: WorkloadContext): Promise<WorkloadResult> {
  const dir = tempDir('w5');
  let master: MasterProcess | undefined;
  try {
    progress(`W5: writing ${CHANGES} changes and ${BUILDERS * BUILDS_PER_BUILDER} builds of ${BUILDERS} builders into a fresh SQLite store`);
    const loadStarted = performance.now();
    const counts = await loadFarmHistory(join(dir, 'shepherd.sqlite'), {
      builders: Array.from({ length: BUILDERS }, (_, i) => builderName(i)),
      changes: CHANGES,
      buildsPerBuilder: BUILDS_PER_BUILDER,
      releaseEvery: 10,
      failingBuilders: FAILING_BUILDERS,
      start: Date.now() - 400 * 24 * 3_600_000,
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const secrets = Object.fromEntries(Array.from({ length: WORKERS }, (_, i) => [`SECRET_W${i}`, secret()]));
    master = await startMaster({ dir, config: config(), env: { SHEPHERD_API_TOKEN: secret(), ...secrets }, launch });
    const api = `${master.url}/api/v1`;

    progress(`W5: ${WARM_UP} warm-up then ${RUNS} measured requests each: grid, grid by tag, overview, builders`);
    const from = monotonicUs();
    const grid = await measure(`${api}/grid?changes=${GRID_CHANGES}`);
    const byTag = await measure(`${api}/grid?changes=${GRID_CHANGES}&tag=${tagOf(3)}`);
    const overview = await measure(`${api}/overview`);
    const builders = await measure(`${api}/builders`);
    phase('w5.requests', from, monotonicUs());

    // The figures mean something only if the answers are the full ones.
    const gridJson = JSON.parse(grid.body) as GridJson;
    const expectedCells = GRID_CHANGES * BUILDERS;
    if (gridJson.changes.length !== GRID_CHANGES || gridJson.builders.length !== BUILDERS || gridJson.cells.length !== expectedCells) {
      throw new Error(
        `grid answered ${gridJson.changes.length} changes, ${gridJson.builders.length} builders, ${gridJson.cells.length} cells; ` +
          `expected ${GRID_CHANGES}, ${BUILDERS}, ${expectedCells}`,
      );
    }
    const tagCells = (JSON.parse(byTag.body) as GridJson).cells.length;
    const overviewJson = JSON.parse(overview.body) as OverviewJson;
    if (overviewJson.failing.length < FAILING_BUILDERS || overviewJson.workers.offline.length !== WORKERS) {
      throw new Error(`overview found ${overviewJson.failing.length} failing builders and ${overviewJson.workers.offline.length} offline workers`);
    }

    const stats = (key: string, label: string, ms: number[]) => [
      figure(`${key}_p50_ms`, `${label}, p50`, percentile(ms, 50), 'ms', 1),
      figure(`${key}_p95_ms`, `${label}, p95`, percentile(ms, 95), 'ms', 1),
      figure(`${key}_max_ms`, `${label}, max`, Math.max(...ms), 'ms', 1),
    ];
    return {
      figures: [
        ...stats('grid', `GET /grid?changes=${GRID_CHANGES} (${gridJson.cells.length} cells)`, grid.ms),
        figure('grid_kb', 'grid response size', Buffer.byteLength(grid.body) / 1024, 'KB', 0),
        figure('grid_tag_p50_ms', `GET /grid by tag (${tagCells} cells), p50`, percentile(byTag.ms, 50), 'ms', 1),
        ...stats('overview', `GET /overview (${overviewJson.failing.length} failing builders)`, overview.ms),
        figure('builders_p50_ms', `GET /builders (${BUILDERS}), p50`, percentile(builders.ms, 50), 'ms', 1),
        figure('builders_p95_ms', `GET /builders (${BUILDERS}), p95`, percentile(builders.ms, 95), 'ms', 1),
        figure('load_s', 'writing the store', loadSeconds, 's', 1),
      ],
      notes: [
        `${counts.changes} changes, ${counts.builds} finished builds of ${BUILDERS} builders, ${counts.blamelistRows} blamelist rows on SQLite;`,
        `${RUNS} sequential requests per URL after ${WARM_UP} warm-up ones, timed from sending to the last byte of the body.`,
      ],
    };
  } finally {
    await stopAll([master]);
    removeTempDir(dir);
  }
}

/** W5. */
export const w5: Workload = { id: 'w5', title: 'views on a big farm: grid, overview and builders over 100,000 builds', run };
