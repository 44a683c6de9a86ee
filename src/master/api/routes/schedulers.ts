/**
 * Schedulers: the list, forcing through a force scheduler (typed parameters
 * checked before anything is queued) and try builds of an uploaded patch.
 */
import type { SchedulerControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { NameParams, RequestsEnvelopeJson, SchedulerForceBody, SchedulerListJson, TryBody, TryResultJson } from '../schemas.js';
import { patchJson, requestJson } from '../views.js';

/** `GET /api/v1/schedulers`, `POST /api/v1/schedulers/:name/force`, `POST /api/v1/try`. */
export function registerSchedulerRoutes(api: ApiRouter, schedulers: SchedulerControl, options: { maxPatchBytes: number }): void {
  api.route({
    method: 'GET',
    url: '/api/v1/schedulers',
    operationId: 'listSchedulers',
    summary: 'Every configured scheduler',
    tag: 'schedulers',
    response: SchedulerListJson,
    async handler() {
      return {
        schedulers: schedulers.list().map((s) => ({
          name: s.name,
          kind: s.kind,
          builders: s.builders,
          ...(s.params ? { params: s.params } : {}),
          ...(s.nextRun !== undefined ? { next_run: s.nextRun } : {}),
        })),
      };
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/schedulers/:name/force',
    operationId: 'forceScheduler',
    summary: "Force builds through a force scheduler, with its typed parameters",
    description: 'Every parameter is checked before anything is queued; a bad one is a 400 naming `params.NAME`. One request per builder.',
    tag: 'schedulers',
    write: true,
    params: NameParams,
    body: SchedulerForceBody,
    status: 201,
    response: RequestsEnvelopeJson,
    async handler({ params, body }) {
      const requests = await schedulers.force(params.name, {
        params: body.params,
        submittedBy: body.submitted_by ?? 'api',
        ...(body.builders ? { builders: body.builders } : {}),
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        ...(body.revision !== undefined ? { revision: body.revision } : {}),
        ...(body.branch !== undefined ? { branch: body.branch } : {}),
      });
      return { requests: requests.map(requestJson) };
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/try',
    operationId: 'submitTry',
    summary: 'Build a patch on top of a base revision (shepherd try)',
    description: "The patch is applied by each builder's checkout step; one that does not apply ends the build FAILURE with git's message.",
    tag: 'schedulers',
    write: true,
    body: TryBody,
    // base64 inflates by 4/3; room for the rest of the body besides.
    bodyLimit: Math.ceil((options.maxPatchBytes * 4) / 3) + 64 * 1024,
    status: 201,
    response: TryResultJson,
    async handler({ body }) {
      const { patch, requests } = await schedulers.submitTry({
        builders: body.builders,
        patch: Buffer.from(body.patch_base64, 'base64'),
        baseRevision: body.base_revision,
        author: body.author,
        ...(body.scheduler !== undefined ? { scheduler: body.scheduler } : {}),
        ...(body.branch !== undefined ? { branch: body.branch } : {}),
        ...(body.comment !== undefined ? { comment: body.comment } : {}),
      });
      return { patch: patchJson(patch), requests: requests.map(requestJson) };
    },
  });
}
