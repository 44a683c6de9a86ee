/**
 * Which workers a test failed and passed on at one revision, and what
 * separates them (`separation.ts`): shared by the test history API and the
 * failure mail. A worker where the test both failed and passed is flaky
 * there and counts on neither side; a worker whose dimensions are not known
 * is left out of the comparison (but still listed).
 */
import type { Store, TestRun } from '../store/store.js';
import type { Config } from '../config/schema.js';
import { separatingDimensions, type Dimensions, type Separation } from './separation.js';
import { isFailure } from './types.js';

/** The workers on each side and what separates them. */
export interface WorkerSeparation extends Separation {
  failingWorkers: string[];
  passingWorkers: string[];
}

/** Separates the failing workers of one test's outcomes (at one revision) from the passing ones. */
export function separateWorkers(outcomes: readonly Pick<TestRun, 'worker' | 'result'>[], dimensions: ReadonlyMap<string, Dimensions>): WorkerSeparation {
  const failed = new Set(outcomes.filter((r) => isFailure(r.result)).map((r) => r.worker));
  const passed = new Set(outcomes.filter((r) => r.result === 'passed').map((r) => r.worker));
  const failingWorkers = [...failed].filter((w) => !passed.has(w)).sort();
  const passingWorkers = [...passed].filter((w) => !failed.has(w)).sort();
  const known = (workers: string[]) => workers.flatMap((w) => (dimensions.has(w) ? [dimensions.get(w)!] : []));
  return { failingWorkers, passingWorkers, ...separatingDimensions(known(failingWorkers), known(passingWorkers)) };
}

/**
 * Every worker's dimensions as the store and config know them, for code that
 * has no live view of the workers: what each agent last reported, with the
 * config's (or a registered worker's) dimensions over it, as the
 * coordinator merges them for a connected worker.
 */
export async function storedWorkerDimensions(store: Pick<Store, 'listWorkers' | 'listRegisteredWorkers'>, config: Pick<Config, 'workers'>): Promise<Map<string, Dimensions>> {
  const [rows, registered] = await Promise.all([store.listWorkers(), store.listRegisteredWorkers()]);
  const reported = new Map(rows.map((row) => [row.name, reportedDimensions(row.info)]));
  const result = new Map<string, Dimensions>();
  for (const worker of registered) if (worker.retiredAt === null) result.set(worker.name, { ...reported.get(worker.name), ...worker.dimensions });
  for (const worker of config.workers) result.set(worker.name, { ...reported.get(worker.name), ...worker.dimensions });
  return result;
}

function reportedDimensions(info: Record<string, unknown> | null): Record<string, string> {
  const dimensions = info?.dimensions;
  if (!dimensions || typeof dimensions !== 'object') return {};
  return Object.fromEntries(Object.entries(dimensions).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
