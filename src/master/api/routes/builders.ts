/**
 * Builders: the configured recipes, with their last build, queue and the
 * workers that may run them.
 */
import { workerMatchesBuilder } from '../../scheduling/match.js';
import type { MasterControl } from '../control.js';
import { findBuilder } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { BuilderDetailJson, BuilderListJson, NameParams } from '../schemas.js';
import type { LatentControl } from '../../latent/pool-service.js';
import { builderJson, waitingRequestJson } from '../views.js';

/** `GET /api/v1/builders`, `GET /api/v1/builders/:name`. */
export function registerBuilderRoutes(api: ApiRouter, control: MasterControl, latent?: Pick<LatentControl, 'waitingReason'>): void {
  api.route({
    method: 'GET',
    url: '/api/v1/builders',
    operationId: 'listBuilders',
    summary: 'List builders with their last finished build',
    tag: 'builders',
    response: BuilderListJson,
    async handler() {
      // One query for every builder's last build: no per-builder round trips.
      const last = new Map((await control.store.lastBuildPerBuilder()).map((build) => [build.builder, build]));
      return { builders: control.config.builders.map((builder) => builderJson(builder, last.get(builder.name))) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builders/:name',
    operationId: 'getBuilder',
    summary: 'One builder, its queued requests and the workers that may run it',
    tag: 'builders',
    params: NameParams,
    response: BuilderDetailJson,
    async handler({ params }) {
      const builder = findBuilder(control, params.name);
      const [lastBuilds, queued, workers] = await Promise.all([
        control.store.listBuilds({ builder: builder.name, state: 'finished', limit: 1 }),
        control.store.listQueuedRequests(),
        control.workers(),
      ]);
      return {
        builder: builderJson(builder, lastBuilds[0]),
        pending: queued.filter((request) => request.builder === builder.name).map((request) => waitingRequestJson(request, latent)),
        workers: workers
          .filter((worker) => workerMatchesBuilder(builder.workers, worker.name, worker.dimensions))
          .map((worker) => worker.name),
      };
    },
  });
}
