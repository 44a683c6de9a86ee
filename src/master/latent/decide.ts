/**
 * When to start and stop latent instances: pure decisions over a snapshot
 * (pools, instances, queued requests no connected worker can take, platform
 * shortfalls, recent start failures, spend this month) and an injected
 * `now`. The shell that calls providers and records instances acts on the
 * result; every decision carries the sentence people see, so the build page,
 * the log and the mail say the same thing.
 */
import type { LatentPoolConfig } from '../config/schema.js';
import { dimensionsSatisfy } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import { workerMatchesBuilder, type WorkerSelector } from '../scheduling/match.js';

/** Where an instance is in its life. */
export type InstanceState = 'starting' | 'connected' | 'building' | 'idle' | 'stopping' | 'stopped' | 'failed';

/** One latent instance, as the decisions see it. */
export interface LatentInstance {
  id: string;
  pool: string;
  state: InstanceState;
  /** When its provider was asked to start it. */
  startedAt: number;
  connectedAt: number | null;
  /** When its last build ended (or it connected, if it has not built yet); null while building. */
  idleSince: number | null;
  stoppedAt: number | null;
  /** Builds it has finished: with idle_timeout 0 it stops after the first. */
  builds: number;
}

/** The parts of a pool's config the decisions use. */
export type LatentPool = Pick<
  LatentPoolConfig,
  'name' | 'dimensions' | 'max_instances' | 'start_timeout' | 'idle_timeout' | 'cost_per_hour' | 'when'
>;

/** A queued request that no connected worker can take now. */
export interface WaitingRequest {
  id: number;
  builder: string;
}

/** A platform and how many live workers it lacks (redundancy - live, 0 when covered). */
export interface PlatformShortfall {
  name: string;
  select: Readonly<Record<string, string>>;
  shortfall: number;
}

/** A pool's run of failed starts since its last instance connected. */
export interface StartFailures {
  consecutive: number;
  lastAt: number;
}

/** Everything one decision looks at. */
export interface LatentSnapshot {
  now: number;
  pools: readonly LatentPool[];
  instances: readonly LatentInstance[];
  /** In serving order (priority, then first in first out): earlier requests get instances first. */
  waiting: readonly WaitingRequest[];
  selectors: ReadonlyMap<string, WorkerSelector>;
  platforms: readonly PlatformShortfall[];
  failures: ReadonlyMap<string, StartFailures>;
  /** Spend this month (see cost.ts), and the monthly budget (undefined: none). */
  spent: number;
  budget?: { monthly: number };
}

/** Start `count` instances of `pool`; one reason per instance. */
export interface StartDecision {
  pool: string;
  count: number;
  reasons: string[];
}

/** Stop an instance; `failed` when its start timed out (the caller counts the failure). */
export interface StopDecision {
  instance: string;
  pool: string;
  failed: boolean;
  reason: string;
}

/** A pool that may not start until `until` (its owner is told the reason). */
export interface Backoff {
  pool: string;
  failures: number;
  until: number;
  reason: string;
}

/** What to do now, and why each queued request still waits. */
export interface LatentDecision {
  starts: StartDecision[];
  stops: StopDecision[];
  backoffs: Backoff[];
  /** Why each waiting request waits, by request id (for the build page). */
  waiting: Map<number, string>;
  /** Farm-wide reasons, e.g. the budget being reached. */
  notes: string[];
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** States in which an instance exists at its provider (and counts toward max_instances). */
const ALIVE: ReadonlySet<InstanceState> = new Set(['starting', 'connected', 'building', 'idle', 'stopping']);

/** How long a pool waits after `consecutive` failed starts: 1m, 2m, 4m... capped at 1h. */
export function backoffDelay(consecutive: number): number {
  if (consecutive <= 0) return 0;
  return Math.min(MINUTE_MS * 2 ** Math.min(consecutive - 1, 30), HOUR_MS);
}

/** `12:40 UTC`, or `2025-03-02 12:40 UTC` when not on the day of `now`. */
export function formatClock(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const sameDay = iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  return `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Whether an instance of `pool` could run builds of a builder with this selector (name lists never name instances). */
export function poolServes(pool: Pick<LatentPool, 'dimensions'>, selector: WorkerSelector | undefined): boolean {
  if (!selector || Array.isArray(selector)) return false;
  return workerMatchesBuilder(selector, '', pool.dimensions);
}

/** Which instances to stop now, and why. */
export function decideStops(snapshot: Pick<LatentSnapshot, 'now' | 'pools' | 'instances'>): StopDecision[] {
  const { now } = snapshot;
  const pools = new Map(snapshot.pools.map((pool) => [pool.name, pool]));
  const stops: StopDecision[] = [];
  for (const instance of snapshot.instances) {
    if (!ALIVE.has(instance.state) || instance.state === 'stopping') continue;
    const pool = pools.get(instance.pool);
    const name = `instance ${instance.id} of ${instance.pool}`;
    const stop = (reason: string, failed = false) => stops.push({ instance: instance.id, pool: instance.pool, failed, reason });
    if (!pool) {
      stop(`${name}: pool ${instance.pool} is no longer configured; stopping it`);
      continue;
    }
    if (instance.state === 'starting') {
      if (now - instance.startedAt >= pool.start_timeout) {
        stop(`${name} did not connect within ${formatDuration(pool.start_timeout)} (start_timeout): the start failed; stopping it`, true);
      }
      continue;
    }
    if (instance.state === 'building') continue;
    // connected or idle: waiting for work.
    const idleSince = instance.idleSince ?? instance.connectedAt ?? instance.startedAt;
    const idleFor = now - idleSince;
    if (pool.idle_timeout === 0) {
      if (instance.builds > 0) {
        stop(`${name} finished its build (idle_timeout 0: one build, then stop); stopping it`);
      } else if (idleFor >= pool.start_timeout) {
        // Without this, an instance whose build went elsewhere would wait for work forever.
        stop(`${name} has had no build for ${formatDuration(pool.start_timeout)} since it connected (idle_timeout 0); stopping it`);
      }
    } else if (idleFor >= pool.idle_timeout) {
      stop(`${name} idle for ${formatDuration(idleFor)} (idle_timeout ${formatDuration(pool.idle_timeout)}); stopping it`);
    }
  }
  return stops;
}

/** Pools backing off now: failures given, plus the starts that time out in this decision. */
export function decideBackoffs(
  now: number,
  failures: ReadonlyMap<string, StartFailures>,
  stops: readonly StopDecision[],
): Backoff[] {
  const runs = new Map(failures);
  for (const stop of stops) {
    if (!stop.failed) continue;
    const before = runs.get(stop.pool);
    runs.set(stop.pool, { consecutive: (before?.consecutive ?? 0) + 1, lastAt: now });
  }
  const backoffs: Backoff[] = [];
  for (const [pool, run] of runs) {
    const until = run.lastAt + backoffDelay(run.consecutive);
    if (run.consecutive > 0 && now < until) {
      backoffs.push({
        pool,
        failures: run.consecutive,
        until,
        reason: `pool ${pool} is backing off after ${plural(run.consecutive, 'failed start')} until ${formatClock(until, now)}`,
      });
    }
  }
  return backoffs;
}

/** Why a pool may not start an instance now (null: it may). */
type Hold = string | null;

/**
 * The whole decision: stops first (timeouts, idleness, pools gone), then
 * backoffs, then starts. A waiting request is first matched with an instance
 * of a pool that serves it and is still starting (it will take the request
 * when it connects); otherwise the first pool, in config order, that serves
 * it and may start one does. Never past max_instances (instances being
 * stopped still count: they still run), never at or past the budget, never
 * while backing off, and a `platform-short` pool only while a platform its
 * dimensions serve lacks live workers, at most that many starting at once.
 */
export function decideLatent(snapshot: LatentSnapshot): LatentDecision {
  const { now } = snapshot;
  const stops = decideStops(snapshot);
  const backoffs = decideBackoffs(now, snapshot.failures, stops);
  const stopping = new Set(stops.map((stop) => stop.instance));
  const backingOff = new Map(backoffs.map((backoff) => [backoff.pool, backoff]));
  const notes: string[] = [];
  const budgetReached = snapshot.budget !== undefined && snapshot.spent >= snapshot.budget.monthly;
  if (budgetReached) notes.push(`budget ${snapshot.budget!.monthly} reached: no new instance`);

  const alive = new Map<string, number>();
  const starting = new Map<string, number>();
  for (const instance of snapshot.instances) {
    if (!ALIVE.has(instance.state)) continue;
    alive.set(instance.pool, (alive.get(instance.pool) ?? 0) + 1);
    if (instance.state === 'starting' && !stopping.has(instance.id)) {
      starting.set(instance.pool, (starting.get(instance.pool) ?? 0) + 1);
    }
  }
  // Starting instances of platform-short pools, per platform: they will fill the gap once connected.
  const platformsOf = new Map(
    snapshot.pools.map((pool) => [pool.name, snapshot.platforms.filter((platform) => dimensionsSatisfy(pool.dimensions, platform.select))]),
  );
  const fillingPlatform = new Map<string, number>();
  for (const pool of snapshot.pools) {
    if (pool.when !== 'platform-short') continue;
    for (const platform of platformsOf.get(pool.name)!) {
      fillingPlatform.set(platform.name, (fillingPlatform.get(platform.name) ?? 0) + (starting.get(pool.name) ?? 0));
    }
  }

  const hold = (pool: LatentPool): Hold => {
    if (budgetReached) return `budget ${snapshot.budget!.monthly} reached: no new instance`;
    const backoff = backingOff.get(pool.name);
    if (backoff) return backoff.reason;
    const count = alive.get(pool.name) ?? 0;
    if (count >= pool.max_instances) return `pool ${pool.name} is at max_instances (${count} of ${pool.max_instances})`;
    if (pool.when === 'platform-short') {
      const platforms = platformsOf.get(pool.name)!;
      const gap = platforms.find((platform) => platform.shortfall - (fillingPlatform.get(platform.name) ?? 0) > 0);
      if (!gap) {
        const names = platforms.map((platform) => platform.name).join(', ') || '(none)';
        const anyShort = platforms.some((platform) => platform.shortfall > 0);
        return anyShort
          ? `pool ${pool.name} starts only while its platform is below redundancy, and instances already starting fill the gap of ${names}`
          : `pool ${pool.name} starts only while its platform is below redundancy, and ${names} ${platforms.length === 1 ? 'is' : 'are'} not`;
      }
    }
    return null;
  };

  const starts = new Map<string, StartDecision>();
  const waiting = new Map<number, string>();
  const unclaimed = new Map(starting);
  for (const request of snapshot.waiting) {
    const selector = snapshot.selectors.get(request.builder);
    const serving = snapshot.pools.filter((pool) => poolServes(pool, selector));
    if (serving.length === 0) {
      waiting.set(request.id, 'no connected worker matches, and no on-demand pool has the dimensions it needs');
      continue;
    }
    const claimed = serving.find((pool) => (unclaimed.get(pool.name) ?? 0) > 0);
    if (claimed) {
      unclaimed.set(claimed.name, unclaimed.get(claimed.name)! - 1);
      waiting.set(request.id, `an instance of pool ${claimed.name} is starting for it`);
      continue;
    }
    const holds: string[] = [];
    const chosen = serving.find((pool) => {
      const why = hold(pool);
      if (why) holds.push(why);
      return why === null;
    });
    if (!chosen) {
      waiting.set(request.id, [...new Set(holds)].join('; '));
      continue;
    }
    const count = (alive.get(chosen.name) ?? 0) + 1;
    alive.set(chosen.name, count);
    if (chosen.when === 'platform-short') {
      const gap = platformsOf.get(chosen.name)!.find((platform) => platform.shortfall - (fillingPlatform.get(platform.name) ?? 0) > 0)!;
      fillingPlatform.set(gap.name, (fillingPlatform.get(gap.name) ?? 0) + 1);
    }
    const start = starts.get(chosen.name) ?? { pool: chosen.name, count: 0, reasons: [] };
    start.count++;
    start.reasons.push(
      `queued build for ${request.builder} waits: no connected worker matches; starting ${chosen.name} (${count} of ${chosen.max_instances})`,
    );
    starts.set(chosen.name, start);
    waiting.set(request.id, `starting an instance of pool ${chosen.name} for it`);
  }
  return { starts: [...starts.values()], stops, backoffs, waiting, notes };
}

/** The line the build page shows for a request waiting for a latent instance ("waiting: pool ... is backing off ..."). */
export function waitingReason(request: WaitingRequest, snapshot: Omit<LatentSnapshot, 'waiting'> & { waiting?: readonly WaitingRequest[] }): string {
  // The request is decided in its place in the queue: requests ahead of it may take the last instances.
  const queue = snapshot.waiting?.some((other) => other.id === request.id) ? snapshot.waiting : [...(snapshot.waiting ?? []), request];
  const decision = decideLatent({ ...snapshot, waiting: queue });
  return `waiting: ${decision.waiting.get(request.id)!}`;
}
