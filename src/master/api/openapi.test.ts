import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from './server.js';
import { createTestControl, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;
let document: Record<string, any>;

beforeAll(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  const response = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('application/json');
  document = JSON.parse(response.body);
});
afterAll(async () => {
  await app.close();
  await control.close();
});

/** Every route the brief asks for, as OpenAPI paths. */
const EXPECTED = [
  'get /api/v1',
  'get /health',
  'get /metrics',
  'get /api/v1/openapi.json',
  'get /worker',
  'get /api/v1/builds/{id}/artifacts',
  'get /api/v1/builds/{id}/artifacts/*',
  'get /api/v1/builders',
  'get /api/v1/builders/{name}',
  'post /api/v1/builders/{name}/force',
  'get /api/v1/builders/{name}/builds/{number}',
  'get /api/v1/builds',
  'get /api/v1/builds/{id}',
  'post /api/v1/builds/{id}/cancel',
  'get /api/v1/steps/{id}/log',
  'get /api/v1/builds/{id}/steps/{step}/log',
  'get /api/v1/workers',
  'get /api/v1/workers/{name}',
  'get /api/v1/requests',
  'get /api/v1/requests/{id}',
  'delete /api/v1/requests/{id}',
  'post /api/v1/requests/{id}/cancel',
  'get /api/v1/events',
  'get /api/v1/changes',
  'get /api/v1/changes/{id}',
  'get /api/v1/sources',
  'post /api/v1/sources/{name}/poll',
  'get /api/v1/schedulers',
  'post /api/v1/schedulers/{name}/force',
  'post /api/v1/try',
  'post /api/v1/workers/{name}/pause',
  'post /api/v1/workers/{name}/resume',
  'post /api/v1/workers/{name}/contact',
  'get /api/v1/overview',
  'get /api/v1/grid',
  'get /api/v1/cost',
  'get /api/v1/coverage',
  'get /api/v1/health',
  'get /api/v1/health/history',
  'get /api/v1/instances',
  'post /api/v1/workers/{name}/maintenance',
  'post /api/v1/applications',
  'get /api/v1/applications',
  'get /api/v1/applications/{id}',
  'post /api/v1/applications/{id}/approve',
  'post /api/v1/applications/{id}/decline',
  'post /api/v1/applications/{id}/status',
  'post /api/v1/workers/{name}/retire',
  'get /api/v1/retired-workers',
  'get /api/v1/builds/{id}/tests',
  'get /api/v1/tests/history',
  'get /api/v1/quarantine',
  'post /api/v1/quarantine',
  'delete /api/v1/quarantine/{id}',
  'get /api/v1/builds/{id}/repro',
  'post /api/v1/builds/{id}/rebuild',
  'get /api/v1/builds/{id}/debug',
  'get /api/v1/builds/{id}/debug-sessions',
  'get /api/v1/debug/{session}/recording',
  'post /api/v1/debug/{session}/approve',
  'post /api/v1/debug/{session}/end',
];

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with components', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: 'Shepherd', version: expect.any(String) });
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Build', 'Step', 'BuildDetail', 'BuildRequest', 'Builder', 'Worker', 'Error', 'BuildList']),
    );
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every route, and nothing the server lacks', () => {
    const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual([...EXPECTED].sort());
  });

  it('documents only routes the server has', async () => {
    for (const entry of EXPECTED) {
      const [method, path] = entry.split(' ') as [string, string];
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url }), entry).toBe(true);
    }
  });

  it('documents parameters, bodies, security and errors from the zod schemas', () => {
    const force = document.paths['/api/v1/builders/{name}/force'].post;
    expect(force.security).toEqual([{ bearer: [] }]);
    expect(force.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
    const body = force.requestBody.content['application/json'].schema;
    expect(body.properties.properties).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(body.properties.priority.type).toBe('integer');
    expect(force.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/RequestEnvelope' });
    expect(force.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });

    const builds = document.paths['/api/v1/builds'].get;
    const limit = builds.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } });

    const log = document.paths['/api/v1/steps/{id}/log'].get;
    expect(Object.keys(log.responses['200'].content)).toEqual(['text/plain; charset=utf-8']);
  });

  it('has no dangling references', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(document.components.schemas[name], ref).toBeDefined();
    }
  });
});
