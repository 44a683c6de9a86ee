/**
 * What the server is: its version, health and OpenAPI document.
 */
import type { ApiRouter } from '../route.js';
import { ApiInfoJson, OkJson } from '../schemas.js';
import { shepherdVersion } from '../version.js';

/** `GET /api/v1`, `GET /health`, `GET /api/v1/openapi.json`. */
export function registerMetaRoutes(api: ApiRouter): void {
  api.route({
    method: 'GET',
    url: '/api/v1',
    operationId: 'getApiInfo',
    summary: 'Server name, version and API version',
    tag: 'meta',
    response: ApiInfoJson,
    async handler() {
      return { name: 'shepherd' as const, version: shepherdVersion(), api: 'v1' as const };
    },
  });

  api.route({
    method: 'GET',
    url: '/health',
    operationId: 'getHealth',
    summary: 'Liveness: answers while the process serves HTTP',
    tag: 'meta',
    response: OkJson,
    async handler() {
      return { ok: true as const };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    response: { mediaType: 'application/json', description: 'The OpenAPI 3.1 document' },
    async handler({ reply }) {
      reply.type('application/json; charset=utf-8').send(api.openapi.render());
    },
  });
}
