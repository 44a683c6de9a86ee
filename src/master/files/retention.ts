/**
 * Retention of stored files: which builds' files to delete (a pure
 * decision), and a small service that applies it on the master's Clock every
 * hour. A build's files go together, so a build never shows half its
 * artifacts.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { Millis } from '../domain.js';
import type { StepFileUsage, Store } from '../store/store.js';
import { formatSize as formatBytes } from '../config/units.js';
import type { StoredFiles } from './stored-files.js';

/** `master.artifacts`: how long files are kept and how much may be kept in all. */
export interface RetentionPolicy {
  keepForMs: Millis;
  maxTotalBytes: number;
}

/**
 * The builds whose files go: those whose newest file is older than
 * `keepForMs`, then, oldest first, as many more as it takes to bring the
 * total within `maxTotalBytes`. Ascending build ids.
 */
export function buildsToDelete(usage: readonly StepFileUsage[], policy: RetentionPolicy, now: Millis): number[] {
  const doomed = new Set<number>();
  const kept: StepFileUsage[] = [];
  for (const build of usage) {
    if (build.newestAt < now - policy.keepForMs) doomed.add(build.buildId);
    else kept.push(build);
  }
  let total = kept.reduce((sum, b) => sum + b.bytes, 0);
  const oldestFirst = [...kept].sort((a, b) => a.newestAt - b.newestAt || a.buildId - b.buildId);
  for (const build of oldestFirst) {
    if (total <= policy.maxTotalBytes) break;
    doomed.add(build.buildId);
    total -= build.bytes;
  }
  return [...doomed].sort((a, b) => a - b);
}

/** What the retention service needs. */
export interface FileRetentionDeps {
  store: Store;
  files: StoredFiles;
  clock: Clock;
  logger: Logger;
  policy: RetentionPolicy;
  /** How often it runs (default: hourly). */
  everyMs?: Millis;
}

/** The running retention service. */
export interface FileRetention {
  /** Runs one pass now; resolves with the builds whose files were deleted. */
  runOnce(): Promise<number[]>;
  /** Cancels the timer and waits for the pass in flight. */
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/** Starts retention: one pass now, then one every `everyMs`. A failed pass is logged and the next one tries again. */
export function startFileRetention(deps: FileRetentionDeps): FileRetention {
  const { store, files, clock, policy } = deps;
  const every = deps.everyMs ?? HOUR_MS;
  const log = deps.logger.child({ component: 'file-retention' });
  let stopped = false;
  let timer: TimerHandle | null = null;
  let chain: Promise<unknown> = Promise.resolve();

  async function pass(): Promise<number[]> {
    const usage = await store.stepFileUsage();
    const doomed = buildsToDelete(usage, policy, clock.now());
    if (doomed.length === 0) return doomed;
    const bytes = usage.filter((u) => doomed.includes(u.buildId)).reduce((sum, u) => sum + u.bytes, 0);
    await files.removeBuilds(doomed);
    log.info({ builds: doomed.length, bytes }, `deleted the stored files of ${doomed.length} build(s), ${formatBytes(bytes)}`);
    return doomed;
  }

  function runOnce(): Promise<number[]> {
    const run = chain.then(pass);
    chain = run.catch((error: unknown) => log.error({ err: error }, 'file retention failed; trying again at the next pass'));
    return run;
  }

  function arm(): void {
    if (stopped) return;
    timer = clock.setTimeout(function retentionPass() {
      arm();
      void runOnce().catch(() => {});
    }, every);
  }

  void runOnce().catch(() => {});
  arm();
  return {
    runOnce,
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = null;
      await chain;
    },
  };
}
