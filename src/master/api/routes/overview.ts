/**
 * The home page's question, "what needs attention now?", in one call:
 * failing builders, disconnected workers, the queue and the running builds.
 * A fixed number of store queries whatever the size of the farm.
 */
import type { ApiRouter } from '../route.js';
import type { MasterControl } from '../control.js';
import { OverviewJson, type FailingBuilderJson } from '../schemas.js';
import type { FailingStreak } from '../../store/store.js';
import { buildJson, changeJson, requestJson } from '../views.js';

/** Running builds listed at most; a farm runs at most as many as its workers' slots. */
const RUNNING_LIMIT = 10_000;

/** `GET /api/v1/overview`. */
export function registerOverviewRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/overview',
    operationId: 'getOverview',
    summary: 'What needs attention now: failing builders, offline workers, the queue, running builds',
    description:
      'A builder is failing when its latest counted build failed (FAILURE or EXCEPTION); RETRY, CANCELLED and ' +
      'SKIPPED builds and try builds do not count, as for notifications. `since` is when the first counted build ' +
      'after the last passing one started.',
    tag: 'overview',
    response: OverviewJson,
    async handler() {
      const builders = control.config.builders;
      const [streaks, workers, queue, running] = await Promise.all([
        control.store.failingStreaks(builders.map((b) => b.name)),
        control.workers(),
        control.store.queueSummary(),
        control.store.listBuilds({ state: 'running', limit: RUNNING_LIMIT }),
      ]);
      const tags = new Map(builders.map((b) => [b.name, [...b.tags]]));
      return {
        failing: streaks.map((streak) => failingBuilderJson(streak, tags.get(streak.builder) ?? [])),
        workers: {
          total: workers.length,
          connected: workers.filter((w) => w.connected).length,
          offline: workers
            .filter((w) => !w.connected)
            .map((w) => ({ name: w.name, last_seen: w.lastSeen, admin: typeof w.info?.admin === 'string' ? w.info.admin : null })),
        },
        queue: { length: queue.length, oldest: queue.oldest ? requestJson(queue.oldest) : null },
        running: running.map(buildJson),
      };
    },
  });
}

/** A failing streak as the overview shows it. */
function failingBuilderJson(streak: FailingStreak, tags: string[]): FailingBuilderJson {
  return {
    builder: streak.builder,
    tags,
    since: streak.firstFailing.startedAt,
    first_failing: { ...buildJson(streak.firstFailing), blamelist: streak.blamelist.map(changeJson) },
    last: buildJson(streak.last),
    failing_builds: streak.failingBuilds,
  };
}
