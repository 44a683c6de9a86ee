/**
 * Platform coverage: which workers count for each platform, how many of them
 * are live against the redundancy wanted, which builders run there, and
 * which builders nobody can run. Pure decisions over the config and the
 * workers' live state; the API route and `check-config` are the I/O shells.
 */
import type { PlatformConfig } from '../config/schema.js';
import { workerMatchesBuilder, type WorkerSelector } from '../scheduling/match.js';
import type { PlatformCoverage } from './types.js';

/** A worker as coverage sees it: its effective dimensions and whether it counts as live now. */
export interface CoverageWorker {
  name: string;
  dimensions: Readonly<Record<string, string>>;
  live: boolean;
}

/** A builder as coverage sees it: its `workers:` (a name list or a dimension selector). */
export interface CoverageBuilder {
  name: string;
  workers: WorkerSelector;
}

/** The answer to "what kinds of workers are we lacking?": one line per short platform. */
export interface LackingPlatform {
  platform: string;
  tier: number;
  /** The dimensions a new worker needs to count for the platform. */
  select: Record<string, string>;
  /** Live workers still wanted (redundancy - live). */
  need: number;
}

/** Whether `dimensions` has every key of `selector` with the same value. */
function hasAll(dimensions: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([key, value]) => dimensions[key] === value);
}

/** Whether a worker counts for a platform: it has all of the platform's `select` dimensions. */
export function workerOnPlatform(platform: Pick<PlatformConfig, 'select'>, dimensions: Readonly<Record<string, string>>): boolean {
  return hasAll(dimensions, platform.select);
}

/**
 * Whether a builder runs on a platform. A dimension selector: when the
 * platform's `select` implies it, or when one of the platform's workers
 * satisfies it (a builder wanting `{os: linux, gpu: cuda}` runs on
 * linux-x86_64 if a machine there has the GPU). A name list: when one of
 * the named workers belongs to the platform.
 */
function builderOnPlatform(builder: CoverageBuilder, platform: PlatformConfig, platformWorkers: readonly CoverageWorker[]): boolean {
  if (!Array.isArray(builder.workers) && hasAll(platform.select, builder.workers as Record<string, string>)) return true;
  return platformWorkers.some((w) => workerMatchesBuilder(builder.workers, w.name, w.dimensions));
}

/** How far a platform is below its redundancy (0 when it is not). */
function shortfall(coverage: Pick<PlatformCoverage, 'redundancy' | 'live'>): number {
  return Math.max(0, coverage.redundancy - coverage.live.length);
}

/**
 * Each platform's coverage now, tier 1 first, then the furthest below its
 * redundancy, then by name: the order alerts and people should look at them.
 * A worker may count for several platforms (linux and linux-x86_64).
 */
export function platformCoverage(
  platforms: readonly PlatformConfig[],
  workers: readonly CoverageWorker[],
  builders: readonly CoverageBuilder[],
): PlatformCoverage[] {
  const coverage = platforms.map(function coverPlatform(platform): PlatformCoverage {
    const members = workers.filter((w) => workerOnPlatform(platform, w.dimensions));
    const live = members.filter((w) => w.live).map((w) => w.name);
    return {
      name: platform.name,
      tier: platform.tier,
      redundancy: platform.redundancy,
      select: { ...platform.select },
      workers: members.map((w) => w.name),
      live,
      builders: builders.filter((b) => builderOnPlatform(b, platform, members)).map((b) => b.name),
      short: live.length < platform.redundancy,
    };
  });
  return coverage.sort((a, b) => a.tier - b.tier || shortfall(b) - shortfall(a) || a.name.localeCompare(b.name));
}

/** The short platforms as "we lack N workers with these dimensions", in coverage order. */
export function lacking(coverage: readonly PlatformCoverage[]): LackingPlatform[] {
  return coverage
    .filter((c) => c.short)
    .map((c) => ({ platform: c.name, tier: c.tier, select: { ...c.select }, need: shortfall(c) }));
}

/** The workers that may run a builder. */
function workersOf<W extends { name: string; dimensions: Readonly<Record<string, string>> }>(builder: CoverageBuilder, workers: readonly W[]): W[] {
  return workers.filter((w) => workerMatchesBuilder(builder.workers, w.name, w.dimensions));
}

/**
 * Builders no configured worker can run: a dimension selector no worker's
 * dimensions satisfy, or a name list naming no configured worker. Agents may
 * report more dimensions when they connect, so this is a warning, not an error.
 */
export function uncoverableBuilders(
  builders: readonly CoverageBuilder[],
  workers: readonly { name: string; dimensions: Readonly<Record<string, string>> }[],
): string[] {
  return builders.filter((b) => workersOf(b, workers).length === 0).map((b) => b.name);
}

/**
 * Builders that have workers but none of them live (all missing, orphaned or
 * offline): their requests wait forever. Builders with no worker at all are
 * `uncoverableBuilders`, not listed here.
 */
export function orphanBuilders(builders: readonly CoverageBuilder[], workers: readonly CoverageWorker[]): string[] {
  return builders
    .filter((b) => {
      const matching = workersOf(b, workers);
      return matching.length > 0 && matching.every((w) => !w.live);
    })
    .map((b) => b.name);
}
