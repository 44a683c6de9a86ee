/**
 * Farm health: one number from 0 to 100 for the farm and one per platform,
 * and the list of what to act on, most important first. Pure: the API route
 * and the Prometheus gauges feed it what coverage, presence, builder health
 * and suspicion already decided.
 *
 * The formula (also in docs/fleet.md). Four parts, their weights summing to
 * 100; each part is a fraction from 0 to 1 of its weight:
 *
 * - coverage (50): the tier-weighted mean of the platforms' scores, a
 *   platform weighing 1/tier (tier 1: 1, tier 2: 1/2, tier 3: 1/3). A
 *   platform scores 100 * min(live, redundancy) / redundancy (100 when it
 *   wants no workers). No platforms configured: full marks.
 * - workers (20): 1 - (missing * 1/2 + orphaned) / W, W the configured
 *   workers that are not paused (paused ones are their admin's decision).
 * - builders (20): 1 - (red for long + stale * 1/2) / B, B the configured builders.
 * - suspects (10): 1 - suspect workers / W.
 *
 * Each part is clamped to [0, 1]; the farm's score is the rounded sum. Each
 * thing on the attention list carries the points it costs the farm, and
 * the list is sorted by them: fixing the first item raises the score most.
 */
import type { Millis } from '../domain.js';
import type { HealthFlag } from './builder-health.js';
import type { SuspectWorker } from './suspect-workers.js';
import type { FleetState, PlatformCoverage } from './types.js';

/** The parts' weights (they sum to 100). */
export const HEALTH_WEIGHTS = { coverage: 50, workers: 20, builders: 20, suspects: 10 } as const;

/** A worker as health sees it: its fleet state and, while disconnected, since when it was last seen. */
export interface HealthWorker {
  name: string;
  state: FleetState;
  since: Millis | null;
  admins: readonly string[];
}

/** What the farm's health is computed from, all decided at the same `now`. */
export interface FarmHealthInput {
  coverage: readonly PlatformCoverage[];
  workers: readonly HealthWorker[];
  /** How many builders are configured. */
  builders: number;
  /** `red_for_long` and `stale` flags (see `healthFlags`). */
  flags: readonly HealthFlag[];
  suspects: readonly SuspectWorker[];
}

/** A platform's health. */
export interface PlatformHealth {
  name: string;
  tier: number;
  score: number;
  live: number;
  redundancy: number;
  short: boolean;
}

/** What an attention item is about. */
export type AttentionKind = 'platform_short' | 'worker_orphaned' | 'worker_missing' | 'builder_red' | 'builder_stale' | 'worker_suspect';

/** One thing to act on, with the points of the farm's score it costs. */
export interface AttentionItem {
  kind: AttentionKind;
  /** The platform, worker or builder it is about. */
  subject: string;
  points: number;
  /** One line for people. */
  message: string;
}

/** The farm's health. */
export interface FarmHealth {
  score: number;
  platforms: PlatformHealth[];
  attention: AttentionItem[];
}

/** A platform's score: the share of its wanted live workers that are live, as 0-100. */
export function platformScore(platform: Pick<PlatformCoverage, 'live' | 'redundancy'>): number {
  if (platform.redundancy <= 0) return 100;
  return Math.round((100 * Math.min(platform.live.length, platform.redundancy)) / platform.redundancy);
}

/** How much a platform weighs in the coverage part: 1/tier (a tier below 1 weighs as tier 1). */
export function tierWeight(tier: number): number {
  return 1 / Math.max(1, tier);
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
// Two decimals: enough to order items, stable to read in JSON.
const round2 = (x: number) => Math.round(x * 100) / 100;

// Ties (equal points) are broken in this order, then by subject.
const KIND_ORDER: readonly AttentionKind[] = ['platform_short', 'worker_orphaned', 'builder_red', 'worker_missing', 'worker_suspect', 'builder_stale'];

/** The farm's score, each platform's, and what to act on first (see the file's header for the formula). */
export function farmHealth(input: FarmHealthInput): FarmHealth {
  const attention: AttentionItem[] = [];
  const add = (kind: AttentionKind, subject: string, points: number, message: string) =>
    attention.push({ kind, subject, points: round2(points), message });

  const platforms = input.coverage.map((c) => ({
    name: c.name,
    tier: c.tier,
    score: platformScore(c),
    live: c.live.length,
    redundancy: c.redundancy,
    short: c.short,
  }));
  const totalWeight = platforms.reduce((sum, p) => sum + tierWeight(p.tier), 0);
  let coverage = 1;
  if (totalWeight > 0) {
    coverage = platforms.reduce((sum, p) => sum + (tierWeight(p.tier) * p.score) / 100, 0) / totalWeight;
    for (const p of platforms) {
      if (p.score >= 100) continue;
      const cost = (HEALTH_WEIGHTS.coverage * tierWeight(p.tier) * (1 - p.score / 100)) / totalWeight;
      add('platform_short', p.name, cost, `platform ${p.name} (tier ${p.tier}) has ${p.live} of the ${p.redundancy} live workers wanted`);
    }
  }

  const counted = Math.max(1, input.workers.filter((w) => w.state !== 'paused').length);
  let lostWorkers = 0;
  for (const w of input.workers) {
    const who = w.admins.length > 0 ? ` (admins: ${w.admins.join(', ')})` : ' (no admin known)';
    if (w.state === 'orphaned') {
      lostWorkers += 1;
      add('worker_orphaned', w.name, HEALTH_WEIGHTS.workers / counted, `worker ${w.name} is orphaned: its admins have not brought it back${who}`);
    } else if (w.state === 'missing') {
      lostWorkers += 0.5;
      add('worker_missing', w.name, (HEALTH_WEIGHTS.workers * 0.5) / counted, `worker ${w.name} is missing${who}`);
    }
  }
  const workers = clamp01(1 - lostWorkers / counted);

  const builderCount = Math.max(1, input.builders);
  let badBuilders = 0;
  for (const f of input.flags) {
    if (f.kind === 'red_for_long') {
      badBuilders += 1;
      add('builder_red', f.builder, HEALTH_WEIGHTS.builders / builderCount, `builder ${f.builder} has failed ${f.count} build${f.count === 1 ? '' : 's'} in a row`);
    } else {
      badBuilders += 0.5;
      add('builder_stale', f.builder, (HEALTH_WEIGHTS.builders * 0.5) / builderCount, `builder ${f.builder} has changes waiting and no build finishing`);
    }
  }
  const builders = clamp01(1 - badBuilders / builderCount);

  for (const s of input.suspects) {
    add('worker_suspect', s.worker, HEALTH_WEIGHTS.suspects / counted, `worker ${s.worker} failed ${s.count} revisions that other workers passed`);
  }
  const suspects = clamp01(1 - input.suspects.length / counted);

  const score = Math.round(
    HEALTH_WEIGHTS.coverage * clamp01(coverage) +
      HEALTH_WEIGHTS.workers * workers +
      HEALTH_WEIGHTS.builders * builders +
      HEALTH_WEIGHTS.suspects * suspects,
  );
  attention.sort((a, b) => b.points - a.points || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.subject.localeCompare(b.subject));
  return { score, platforms, attention };
}
