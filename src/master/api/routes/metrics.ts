/**
 * Prometheus metrics, as `src/master/metrics.ts` maintains them.
 */
import type { Registry } from 'prom-client';
import type { ApiRouter } from '../route.js';

/** `GET /metrics`. */
export function registerMetricsRoute(api: ApiRouter, registry: Registry): void {
  api.route({
    method: 'GET',
    url: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    tag: 'meta',
    response: { mediaType: 'text/plain; version=0.0.4', description: 'Prometheus text exposition format' },
    async handler({ reply }) {
      const text = await registry.metrics();
      reply.type(registry.contentType).send(text);
    },
  });
}
