/**
 * Platform coverage: "which platforms are short of workers, and what kinds of
 * workers are we lacking?". The decisions are `fleet/coverage.ts`; this shell
 * feeds them the config and the coordinator's live workers, and adds each
 * platform's last green build in a fixed number of store queries.
 */
import type { Build } from '../../domain.js';
import { lacking, orphanBuilders, platformCoverage, uncoverableBuilders } from '../../fleet/coverage.js';
import type { MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { CoverageJson } from '../schemas.js';

/**
 * Newest successful builds read to find green builds of builders whose
 * latest build failed. A builder green only before these is shown with no
 * last green build: on a farm that busy, that is months ago.
 */
const GREEN_WINDOW = 1000;

/** `GET /api/v1/coverage`. */
export function registerCoverageRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/coverage',
    operationId: 'getCoverage',
    summary: 'Platforms against the redundancy wanted, what kinds of workers are lacking, builders nobody runs',
    description:
      'A worker counts for a platform when it has all of its `select` dimensions, and is live while connected and not paused. ' +
      "A platform is short with fewer live workers than its redundancy. `last_green` is the newest SUCCESS build of the platform's builders.",
    tag: 'fleet',
    response: CoverageJson,
    async handler() {
      const { platforms, builders } = control.config;
      const [views, latest, greens] = await Promise.all([
        control.workers(),
        control.store.lastBuildPerBuilder(),
        control.store.listBuilds({ result: 'SUCCESS', limit: GREEN_WINDOW }),
      ]);
      // A paused worker takes no builds: connected, it still covers nothing.
      const workers = views.map((w) => ({ name: w.name, dimensions: w.dimensions, live: w.connected && w.paused === null }));
      const green = newestGreenPerBuilder([...latest, ...greens]);
      const coverage = platformCoverage(platforms, workers, builders);
      return {
        platforms: coverage.map((c) => ({ ...c, last_green: lastGreen(c.builders, green) })),
        lacking: lacking(coverage),
        uncoverable_builders: uncoverableBuilders(builders, workers),
        unrun_builders: orphanBuilders(builders, workers),
      };
    },
  });
}

/** Each builder's newest finished SUCCESS build among `builds`. */
function newestGreenPerBuilder(builds: readonly Build[]): Map<string, Build> {
  const newest = new Map<string, Build>();
  for (const build of builds) {
    if (build.result !== 'SUCCESS' || build.finishedAt === null) continue;
    const known = newest.get(build.builder);
    if (!known || build.finishedAt > known.finishedAt!) newest.set(build.builder, build);
  }
  return newest;
}

/** The newest green build among a platform's builders, as JSON. */
function lastGreen(builders: readonly string[], green: ReadonlyMap<string, Build>): CoverageJson['platforms'][number]['last_green'] {
  let best: Build | undefined;
  for (const name of builders) {
    const build = green.get(name);
    if (build && (!best || build.finishedAt! > best.finishedAt!)) best = build;
  }
  return best ? { id: best.id, builder: best.builder, number: best.number, finished_at: best.finishedAt! } : null;
}
