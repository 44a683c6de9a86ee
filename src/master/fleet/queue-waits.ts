/**
 * Queue waits: how long build requests waited for a worker, per builder and
 * per platform of the worker that took them. A builder whose p95 on one
 * platform is hours while it is seconds elsewhere says which kind of machine
 * the farm lacks, before anything goes red. Pure: the health route reads the
 * waits from the store (`listQueueWaits`) and the workers' dimensions.
 */
import type { PlatformConfig } from '../config/schema.js';
import type { Millis } from '../domain.js';
import type { QueueWait } from '../store/store.js';
import { workerOnPlatform } from './coverage.js';

/** The platform of a worker no configured platform selects. */
export const OTHER_PLATFORM = 'other';

/** The waits of one builder on one platform. */
export interface QueueWaitStats {
  builder: string;
  platform: string;
  /** Builds counted. */
  builds: number;
  /** Median wait (nearest rank), ms. */
  p50Ms: Millis;
  /** 95th percentile wait (nearest rank), ms. */
  p95Ms: Millis;
}

/**
 * The one platform a worker's waits count for: the first platform, tier 1
 * first then in config order, whose `select` its dimensions satisfy (a
 * worker on `linux-x86_64` and `linux` counts once, for the more important
 * one), else `other`.
 */
export function platformOfWorker(platforms: readonly Pick<PlatformConfig, 'name' | 'select' | 'tier'>[], dimensions: Readonly<Record<string, string>>): string {
  // Array.prototype.sort is stable: equal tiers keep their config order.
  const ordered = [...platforms].sort((a, b) => a.tier - b.tier);
  return ordered.find((p) => workerOnPlatform(p, dimensions))?.name ?? OTHER_PLATFORM;
}

/** Each worker's platform (see `platformOfWorker`), by worker name. */
export function workerPlatforms(
  platforms: readonly Pick<PlatformConfig, 'name' | 'select' | 'tier'>[],
  workers: readonly { name: string; dimensions: Readonly<Record<string, string>> }[],
): Map<string, string> {
  return new Map(workers.map((w) => [w.name, platformOfWorker(platforms, w.dimensions)]));
}

/**
 * The nearest-rank percentile `p` (0 < p <= 100) of values sorted ascending:
 * the smallest value with at least p% of the values at or below it. Always
 * one of the values, so integer waits give an integer.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('nearestRank of no values');
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/**
 * p50 and p95 of the waits per (builder, platform), the longest p95 first,
 * then by builder and platform. A worker missing from `platformOf` (removed
 * from the config since) counts as `other`; a negative wait (a clock set
 * back between submission and start) counts as 0.
 */
export function queueWaitStats(waits: readonly QueueWait[], platformOf: ReadonlyMap<string, string>): QueueWaitStats[] {
  const groups = new Map<string, { builder: string; platform: string; waits: number[] }>();
  for (const wait of waits) {
    const platform = platformOf.get(wait.worker) ?? OTHER_PLATFORM;
    const key = `${wait.builder}\u0000${platform}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { builder: wait.builder, platform, waits: [] }));
    group.waits.push(Math.max(0, Math.round(wait.waitMs)));
  }
  const stats = [...groups.values()].map(function statsOf({ builder, platform, waits: values }): QueueWaitStats {
    const sorted = values.sort((a, b) => a - b);
    return { builder, platform, builds: sorted.length, p50Ms: nearestRank(sorted, 50), p95Ms: nearestRank(sorted, 95) };
  });
  return stats.sort((a, b) => b.p95Ms - a.p95Ms || a.builder.localeCompare(b.builder) || a.platform.localeCompare(b.platform));
}
