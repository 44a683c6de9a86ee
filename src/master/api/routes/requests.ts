/**
 * Build requests: forcing a builder, the queue, and cancelling a queued
 * request.
 */
import type { BuildRequest } from '../../domain.js';
import { ShepherdError } from '../../errors.js';
import type { LatentControl } from '../../latent/pool-service.js';
import type { MasterControl } from '../control.js';
import { findBuilder } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { ForceBody, IdParams, NameParams, RequestEnvelopeJson, RequestJson, RequestListJson } from '../schemas.js';
import { requestJson, waitingRequestJson } from '../views.js';

/** `POST /api/v1/builders/:name/force` and the `/api/v1/requests` routes. */
export function registerRequestRoutes(api: ApiRouter, control: MasterControl, latent?: Pick<LatentControl, 'waitingReason'>): void {
  const withWaiting = (request: BuildRequest) => waitingRequestJson(request, latent);

  api.route({
    method: 'POST',
    url: '/api/v1/builders/:name/force',
    operationId: 'forceBuild',
    summary: 'Queue a build request for a builder',
    tag: 'requests',
    write: true,
    params: NameParams,
    body: ForceBody,
    status: 201,
    response: RequestEnvelopeJson,
    async handler({ params, body }) {
      findBuilder(control, params.name);
      const submittedBy = body.submitted_by ?? 'api';
      const request = await control.force({
        builder: params.name,
        properties: body.properties ?? {},
        reason: body.reason ?? `forced by ${submittedBy}`,
        submittedBy,
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
      });
      return { request: requestJson(request) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/requests',
    operationId: 'listRequests',
    summary: 'Queued build requests, in the order they will be served',
    tag: 'requests',
    response: RequestListJson,
    async handler() {
      return { requests: (await control.store.listQueuedRequests()).map(withWaiting) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/requests/:id',
    operationId: 'getRequest',
    summary: 'One build request, whatever its state',
    description: 'A claimed request names its running build in `build_id`; a complete one, the build that completed it, and its `result`.',
    tag: 'requests',
    params: IdParams,
    response: RequestJson,
    async handler({ params }) {
      const request = await control.store.getRequest(params.id);
      if (!request) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build request with id ${params.id}`);
      return withWaiting(request);
    },
  });

  for (const [method, url, operationId] of [
    ['DELETE', '/api/v1/requests/:id', 'deleteRequest'],
    ['POST', '/api/v1/requests/:id/cancel', 'cancelRequest'],
  ] as const) {
    api.route({
      method,
      url,
      operationId,
      summary: 'Cancel a queued build request',
      description: 'The request completes as CANCELLED. 409 when it is no longer queued (cancel its build instead).',
      tag: 'requests',
      write: true,
      params: IdParams,
      response: RequestEnvelopeJson,
      async handler({ params }) {
        return { request: requestJson(await control.cancelRequest(params.id)) };
      },
    });
  }
}
