/**
 * Builds: lists with filters and a cursor, one build with its steps, and
 * cancelling a running build.
 */
import type { Step } from '../../domain.js';
import type { MasterControl } from '../control.js';
import { findBuild, findBuildByNumber } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { BuildDetailJson, BuilderBuildParams, BuildListJson, BuildsQuery, CancelBody, IdParams, OkJson } from '../schemas.js';
import { buildDetailJson, buildJson } from '../views.js';

/** `GET /api/v1/builds`, `GET /api/v1/builds/:id`, `GET /api/v1/builders/:name/builds/:number`, `POST /api/v1/builds/:id/cancel`. */
export function registerBuildRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/builds',
    operationId: 'listBuilds',
    summary: 'List builds, newest first',
    description: 'Pass `next` from one page as `before` to get the following page.',
    tag: 'builds',
    query: BuildsQuery,
    response: BuildListJson,
    async handler({ query }) {
      // One row more than asked tells whether another page exists without a second query.
      const builds = await control.store.listBuilds({
        builder: query.builder,
        result: query.result,
        state: query.state,
        worker: query.worker,
        beforeId: query.before,
        limit: query.limit + 1,
      });
      const page = builds.slice(0, query.limit);
      return {
        builds: page.map(buildJson),
        next: builds.length > query.limit ? page[page.length - 1]!.id : null,
      };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id',
    operationId: 'getBuild',
    summary: 'One build with its steps and blamelist',
    tag: 'builds',
    params: IdParams,
    response: BuildDetailJson,
    async handler({ params }) {
      const [build, steps, blamelist] = await Promise.all([
        findBuild(control, params.id),
        control.store.getSteps(params.id),
        control.store.getBlamelist(params.id),
      ]);
      return buildDetailJson(build, await withLiveLogLengths(control, steps), blamelist);
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builders/:name/builds/:number',
    operationId: 'getBuildByNumber',
    summary: 'One build with its steps, by builder and build number',
    tag: 'builds',
    params: BuilderBuildParams,
    response: BuildDetailJson,
    async handler({ params }) {
      const build = await findBuildByNumber(control, params.name, params.number);
      const [steps, blamelist] = await Promise.all([control.store.getSteps(build.id), control.store.getBlamelist(build.id)]);
      return buildDetailJson(build, await withLiveLogLengths(control, steps), blamelist);
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/builds/:id/cancel',
    operationId: 'cancelBuild',
    summary: 'Cancel a running build',
    description: 'Kills the running step; steps marked always_run still run. 409 when the build already finished.',
    tag: 'builds',
    write: true,
    params: IdParams,
    body: CancelBody,
    status: 202,
    response: OkJson,
    async handler({ params, body }) {
      await control.cancelBuild(params.id, body.reason ?? 'cancelled through the API');
      return { ok: true as const };
    },
  });
}

/**
 * A running step's log is ahead of the store by what is buffered (up to one
 * flush interval): report the length a reader can fetch now, so a page
 * opened right after the step's last output does not show it empty.
 */
async function withLiveLogLengths(control: MasterControl, steps: Step[]): Promise<Step[]> {
  return Promise.all(steps.map(async (step) => (step.state === 'running' ? { ...step, logBytes: await control.logLength(step.id) } : step)));
}
