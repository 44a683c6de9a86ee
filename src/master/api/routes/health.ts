/**
 * Farm health (`GET /api/v1/health`): the I/O shell over `fleet/health.ts`.
 * It reads what the decisions need in a fixed number of store queries
 * (failing streaks, the latest build per builder, the queue, the recent
 * finished builds, the recent queue waits) plus the coordinator's live
 * workers, and hands them to the pure decisions with the config's
 * `fleet.health` thresholds. `readHealth` is shared with the Prometheus
 * gauges, the weekly digest and the health history; `GET
 * /api/v1/health/history` answers the recorded samples.
 */
import { systemClock, type Clock } from '../../clock.js';
import type { Build, Millis } from '../../domain.js';
import { healthFlags, type HealthFlag } from '../../fleet/builder-health.js';
import { platformCoverage } from '../../fleet/coverage.js';
import { farmHealth } from '../../fleet/health.js';
import { queueWaitStats, workerPlatforms } from '../../fleet/queue-waits.js';
import { outcomeOf } from '../../notify/decide.js';
import { suspectWorkers, type WorkerBuild } from '../../fleet/suspect-workers.js';
import type { MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { HealthHistoryJson, HealthHistoryQuery, HealthJson } from '../schemas.js';

const DAY = 86_400_000;

/**
 * The newest finished builds read for suspicion: it bounds the query on any
 * farm, so on a busy one `fleet.health.suspect_window` is effectively
 * shorter (2000 builds: about a week of a farm finishing 300 builds a day).
 */
export const SUSPECT_BUILDS = 2000;

/** The revision a build built: `got_revision` once checked out, else the one requested (null: none). */
function revisionOf(build: Build): string | null {
  return build.properties.got_revision || build.properties.revision || null;
}

/** The farm's health now, as the API answers it: five store calls (eight queries) whatever the farm's size. */
export async function readHealth(control: MasterControl, now: Millis): Promise<HealthJson> {
  const { config, store } = control;
  const thresholds = config.fleet.health;
  const names = config.builders.map((b) => b.name);
  const [views, streaks, latest, queued, recent, waits] = await Promise.all([
    control.workers(),
    store.failingStreaks(names),
    store.lastBuildPerBuilder(),
    store.listQueuedRequests(),
    store.listBuilds({ state: 'finished', limit: SUSPECT_BUILDS }),
    store.listQueueWaits(now - thresholds.queue_wait_window),
  ]);

  // Red for long: failing streaks follow the counted-builds rule `redStreak` uses; since = the first failure.
  const red = streaks
    .filter((s) => s.firstFailing.finishedAt !== null && now - s.firstFailing.finishedAt >= thresholds.red_for)
    .map((s) => ({ builder: s.builder, count: s.failingBuilds, since: s.firstFailing.finishedAt!, first_failing_build_id: s.firstFailing.id }))
    .sort((a, b) => a.since - b.since || a.builder.localeCompare(b.builder));

  // Stale: the builder's requests still queued stand for its waiting changes; its latest finished build answers for them.
  const lastOf = new Map(latest.map((b) => [b.builder, b]));
  const stale: HealthFlag[] = [];
  for (const name of names) {
    const waiting = queued.filter((r) => r.builder === name && r.patchId === null).map((r) => r.submittedAt);
    if (waiting.length === 0) continue;
    const last = lastOf.get(name);
    const builds = last?.finishedAt != null ? [{ result: last.result, startedAt: last.startedAt, finishedAt: last.finishedAt, isTry: false }] : [];
    const flags = healthFlags({ name, builds, changes: waiting }, now, { redFor: thresholds.red_for, staleAfter: thresholds.stale_after });
    stale.push(...flags.filter((f) => f.kind === 'stale'));
  }

  // Suspects: the recent finished builds with a revision (try builds cannot be told apart here; see docs/fleet.md).
  const withRevision = recent.flatMap((b) => {
    const revision = revisionOf(b);
    return revision !== null && b.finishedAt !== null ? [{ build: b, revision }] : [];
  });
  const workerBuilds: WorkerBuild[] = withRevision.map(({ build, revision }) => ({
    builder: build.builder,
    worker: build.worker,
    revision,
    result: build.result,
    finishedAt: build.finishedAt!,
  }));
  const suspects = suspectWorkers(workerBuilds, now, { window: thresholds.suspect_window, threshold: thresholds.suspect_threshold });
  const idOf = (builder: string, worker: string, revision: string, matches: (b: Build) => boolean) =>
    withRevision.find(({ build, revision: r }) => build.builder === builder && build.worker === worker && r === revision && matches(build))!.build.id;

  const live = views.map((w) => ({ name: w.name, dimensions: w.dimensions, live: w.connected && w.paused === null }));
  const coverage = platformCoverage(config.platforms, live, config.builders);
  const workers = views.map((w) => ({ name: w.name, state: w.state, since: w.connected ? null : w.lastSeen, admins: w.admins }));
  const health = farmHealth({
    coverage,
    workers,
    builders: names.length,
    flags: [...red.map((r) => ({ kind: 'red_for_long' as const, builder: r.builder, since: r.since, count: r.count })), ...stale],
    suspects,
  });

  // Queue waits: each build counts for the platform of the worker that took it (`readHealth` may be asked about the past).
  const platformOf = workerPlatforms(config.platforms, views);
  const queueWaits = queueWaitStats(waits.filter((w) => w.startedAt <= now), platformOf);

  const states: Record<string, number> = { building: 0, idle: 0, paused: 0, offline: 0, missing: 0, orphaned: 0 };
  for (const w of views) states[w.state] = (states[w.state] ?? 0) + 1;
  return {
    score: health.score,
    platforms: health.platforms,
    red_builders: red,
    stale_builders: stale.map((f) => ({ builder: f.builder, since: f.since })),
    suspect_workers: suspects.map((s) => ({
      worker: s.worker,
      count: s.count,
      since: s.since,
      evidence: s.evidence.map((e) => ({
        builder: e.builder,
        revision: e.revision,
        failed_at: e.failedAt,
        failed_build_id: idOf(e.builder, s.worker, e.revision, (b) => b.finishedAt === e.failedAt),
        passed_on: e.passedOn,
        passed_build_id: idOf(e.builder, e.passedOn, e.revision, (b) => outcomeOf(b.result) === 'passing'),
      })),
    })),
    missing_workers: workers
      .filter((w): w is typeof w & { state: 'missing' | 'orphaned' } => w.state === 'missing' || w.state === 'orphaned')
      .map((w) => ({ name: w.name, state: w.state, since: w.since, admins: [...w.admins] })),
    worker_states: states,
    attention: health.attention,
    queue_waits: queueWaits.map((q) => ({ builder: q.builder, platform: q.platform, builds: q.builds, p50_ms: q.p50Ms, p95_ms: q.p95Ms })),
  };
}

/** `GET /api/v1/health` and `GET /api/v1/health/history`; `clock` is the master's (tests pass a `ManualClock`). */
export function registerHealthRoutes(api: ApiRouter, control: MasterControl, clock: Clock = systemClock): void {
  api.route({
    method: 'GET',
    url: '/api/v1/health',
    operationId: 'getHealth',
    summary: "The farm's health score, each platform's, and what to act on first",
    description:
      'A score from 0 to 100 from four parts: platform coverage (50, tier-weighted), missing and orphaned workers (20), ' +
      'builders red for long or stale (20) and suspect workers (10); see docs/fleet.md. `attention` lists what costs the most points first.',
    tag: 'fleet',
    response: HealthJson,
    handler() {
      return readHealth(control, clock.now());
    },
  });
  api.route({
    method: 'GET',
    url: '/api/v1/health/history',
    operationId: 'getHealthHistory',
    summary: "The farm's health score over the last days",
    description:
      'The samples the master records every `fleet.health.sample_every` (see docs/fleet.md), oldest first: ' +
      "the farm's score and each platform's. `days` (1 to 366, default 30) says how far back.",
    tag: 'fleet',
    query: HealthHistoryQuery,
    response: HealthHistoryJson,
    async handler({ query }) {
      const samples = await control.store.listHealthSamples(clock.now() - query.days * DAY);
      return { samples: samples.map((s) => ({ at: s.at, score: s.score, platforms: s.platforms })) };
    },
  });
}
