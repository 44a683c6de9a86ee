import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import { createHttpServer } from './server.js';
import { createTestControl, TEST_TOKEN, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;
let registry: Registry;
/** Warnings and errors the server logged: a route misusing Fastify shows up here, not in its response. */
let logged: string[];

async function setup(options: { apiToken?: string | null } = {}) {
  control = await createTestControl(options);
  registry = new Registry();
  createMetrics(control.events, registry);
  logged = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(line) });
  app = await createHttpServer(control, { logger, registry, onWorkerSocket: (socket) => socket.close() });
}

beforeEach(async () => setup());
afterEach(async () => {
  await app.close();
  await control.close();
  expect(logged).toEqual([]);
});

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

/** Its worker runs the build to the end: every step succeeds, or (FAILURE) the running one fails. */
function finishBuild(buildId: number, result: 'SUCCESS' | 'FAILURE' = 'SUCCESS') {
  return control.finishBuild(buildId, result);
}

describe('meta', () => {
  it('answers /api/v1 and /health', async () => {
    const info = await app.inject({ method: 'GET', url: '/api/v1' });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ name: 'shepherd', api: 'v1', version: expect.any(String) });
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ ok: true });
  });

  it('answers unknown routes 404 in the error shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: 'SHEPHERD_E_NOT_FOUND', message: expect.stringContaining('/api/v1/nope') },
    });
  });

  it('refuses plain HTTP on the worker endpoint in the error shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/worker' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('SHEPHERD_E_WORKER_PROTOCOL');
  });
});

describe('builders', () => {
  it('lists builders with their last finished build', async () => {
    const { build } = await control.startBuild('unix-tests', 'linux-1');
    await finishBuild(build.id);
    const response = await app.inject({ method: 'GET', url: '/api/v1/builders' });
    expect(response.statusCode).toBe(200);
    const { builders } = response.json();
    expect(builders).toHaveLength(2);
    expect(builders[0]).toMatchObject({
      name: 'unix-tests',
      tags: ['unix'],
      workers: { os: 'linux' },
      steps: ['configure', 'compile', 'test'],
      last_build: { id: build.id, number: 1, result: 'SUCCESS', request_id: build.requestId },
    });
    expect(builders[1]).toMatchObject({ name: 'mac-build', workers: ['mac-1'], last_build: null });
  });

  it('shows one builder with its queue and matching workers', async () => {
    await control.force({ builder: 'unix-tests', properties: { branch: 'main' }, reason: 'r', submittedBy: null });
    await control.force({ builder: 'mac-build', properties: {}, reason: 'r', submittedBy: null });
    const response = await app.inject({ method: 'GET', url: '/api/v1/builders/unix-tests' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.builder.name).toBe('unix-tests');
    expect(body.pending).toHaveLength(1);
    expect(body.pending[0]).toMatchObject({ builder: 'unix-tests', state: 'queued', properties: { branch: 'main' } });
    expect(body.workers).toEqual(['linux-1']);
  });

  it('answers an unknown builder with SHEPHERD_E_NOT_FOUND', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/builders/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('SHEPHERD_E_NOT_FOUND');
  });
});

describe('force and auth', () => {
  const force = (headers: Record<string, string>, payload: unknown = { reason: 'try' }) =>
    app.inject({ method: 'POST', url: '/api/v1/builders/unix-tests/force', headers, payload: payload as object });

  it('refuses a write without a token, saying how to pass one', async () => {
    const response = await force({});
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('SHEPHERD_E_UNAUTHORIZED');
    expect(response.json().error.message).toContain('Authorization: Bearer');
    expect(await control.store.listQueuedRequests()).toEqual([]);
  });

  it('refuses a wrong token', async () => {
    const response = await force({ authorization: 'Bearer wrong' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toContain('not valid');
  });

  it('checks the token before the body', async () => {
    const response = await force({}, { properties: { foo: 1 } });
    expect(response.statusCode).toBe(401);
  });

  it('queues a request with the token: 201 and the request', async () => {
    const response = await force(auth, { properties: { branch: 'dev' }, priority: 5 });
    expect(response.statusCode).toBe(201);
    const { request } = response.json();
    expect(request).toMatchObject({
      id: expect.any(Number),
      builder: 'unix-tests',
      priority: 5,
      properties: { branch: 'dev' },
      submitted_by: 'api',
      state: 'queued',
      build_id: null,
      result: null,
    });
    expect((await control.store.listQueuedRequests()).map((r) => r.id)).toEqual([request.id]);
  });

  it('records who submitted when told', async () => {
    const response = await force(auth, { submitted_by: 'alice' });
    expect(response.json().request.submitted_by).toBe('alice');
  });

  it('accepts a force without a body', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/builders/unix-tests/force', headers: auth });
    expect(response.statusCode).toBe(201);
  });

  it('answers 404 for forcing an unknown builder', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/builders/nope/force', headers: auth, payload: {} });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('SHEPHERD_E_NOT_FOUND');
  });

  it('names the env var to set when the master has no token', async () => {
    await app.close();
    await control.close();
    await setup({ apiToken: null });
    const response = await force(auth);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toContain('no API token configured');
    expect(response.json().error.message).toContain('SHEPHERD_TEST_TOKEN');
  });
});

describe('validation', () => {
  it('names the bad field of a body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/builders/unix-tests/force',
      headers: auth,
      payload: { properties: { foo: 1 } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: {
        code: 'SHEPHERD_E_VALIDATION',
        message: 'properties.foo: expected string',
        details: { field: 'properties.foo' },
      },
    });
  });

  it('names an unknown body field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/builders/unix-tests/force',
      headers: auth,
      payload: { prop: {} },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.field).toBe('prop');
  });

  it('names a bad query parameter and a bad path parameter', async () => {
    const limit = await app.inject({ method: 'GET', url: '/api/v1/builds?limit=0' });
    expect(limit.statusCode).toBe(400);
    expect(limit.json().error.details.field).toBe('limit');
    const result = await app.inject({ method: 'GET', url: '/api/v1/builds?result=GREEN' });
    expect(result.json().error.message).toMatch(/^result: expected one of SUCCESS/);
    const id = await app.inject({ method: 'GET', url: '/api/v1/builds/abc' });
    expect(id.statusCode).toBe(400);
    expect(id.json().error).toMatchObject({ code: 'SHEPHERD_E_VALIDATION', details: { field: 'id' } });
  });

  it('answers malformed JSON with 400 in the error shape', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/builders/unix-tests/force',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"reason": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'SHEPHERD_E_VALIDATION', details: { field: 'body' } });
  });
});

describe('builds', () => {
  it('pages through builds with a cursor, newest first', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { build } = await control.startBuild('unix-tests', 'linux-1');
      await finishBuild(build.id);
      ids.push(build.id);
    }
    const seen: number[] = [];
    let url = '/api/v1/builds?limit=2';
    const nexts: (number | null)[] = [];
    for (;;) {
      const body = (await app.inject({ method: 'GET', url })).json();
      seen.push(...body.builds.map((b: { id: number }) => b.id));
      nexts.push(body.next);
      if (body.next === null) break;
      url = `/api/v1/builds?limit=2&before=${body.next}`;
    }
    expect(seen).toEqual([...ids].reverse());
    expect(nexts).toHaveLength(3);
    expect(nexts[2]).toBeNull();
  });

  it('filters builds', async () => {
    const a = await control.startBuild('unix-tests', 'linux-1');
    await finishBuild(a.build.id, 'FAILURE');
    await control.startBuild('mac-build', 'mac-1');
    const failed = (await app.inject({ method: 'GET', url: '/api/v1/builds?result=FAILURE' })).json();
    expect(failed.builds.map((b: { id: number }) => b.id)).toEqual([a.build.id]);
    const running = (await app.inject({ method: 'GET', url: '/api/v1/builds?state=running&worker=mac-1' })).json();
    expect(running.builds).toHaveLength(1);
    expect(running.builds[0]).toMatchObject({ builder: 'mac-build', state: 'running', result: null, finished_at: null });
  });

  it('shows a build with its steps, by id and by number', async () => {
    // The coordinator has started configure (workdir `build` in TEST_CONFIG); its output is stored.
    const { build, steps } = await control.startBuild('unix-tests', 'linux-1');
    control.sendOutput(steps[0]!.id, 'checking...\n');
    await control.stored(steps[0]!.id);
    const byId = await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}` });
    expect(byId.statusCode).toBe(200);
    const body = byId.json();
    expect(body).toMatchObject({
      id: build.id,
      number: 1,
      builder: 'unix-tests',
      worker: 'linux-1',
      state: 'running',
      request_id: build.requestId,
      properties: expect.objectContaining({ branch: 'main' }),
    });
    expect(body.steps.map((s: { name: string }) => s.name)).toEqual(['configure', 'compile', 'test']);
    expect(body.steps[0]).toMatchObject({
      index: 0,
      state: 'running',
      command: './configure',
      workdir: 'build',
      exit_code: null,
      log: { bytes: 12, truncated: false, url: `/api/v1/steps/${steps[0]!.id}/log` },
    });
    const byNumber = await app.inject({ method: 'GET', url: '/api/v1/builders/unix-tests/builds/1' });
    expect(byNumber.json()).toEqual(body);
    const missing = await app.inject({ method: 'GET', url: '/api/v1/builders/unix-tests/builds/9' });
    expect(missing.statusCode).toBe(404);
  });

  it('cancels a running build (202), then answers 409', async () => {
    const { build, steps } = await control.startBuild('unix-tests', 'linux-1');
    const url = `/api/v1/builds/${build.id}/cancel`;
    expect((await app.inject({ method: 'POST', url, payload: {} })).statusCode).toBe(401);
    const first = await app.inject({ method: 'POST', url, headers: auth, payload: { reason: 'enough' } });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ ok: true });
    // The worker was told to kill the running step; it reports the step's end, and the build ends.
    expect(control.connection('linux-1')!.cancelled).toEqual([steps[0]!.id]);
    const finished = control.buildFinished(build.id);
    await control.finishStep(steps[0]!.id, { exit_code: null, signal: 'SIGTERM', ended_by: 'cancel' });
    await finished;
    expect((await control.store.getBuild(build.id))?.result).toBe('CANCELLED');
    const again = await app.inject({ method: 'POST', url, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('SHEPHERD_E_CONFLICT');
  });
});

describe('requests', () => {
  it('lists the queue, shows and cancels a request', async () => {
    const request = await control.force({ builder: 'unix-tests', properties: {}, reason: 'r', submittedBy: 'bob' });
    const list = (await app.inject({ method: 'GET', url: '/api/v1/requests' })).json();
    expect(list.requests.map((r: { id: number }) => r.id)).toEqual([request.id]);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/requests/${request.id}` })).statusCode).toBe(401);
    const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/requests/${request.id}`, headers: auth });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().request).toMatchObject({ id: request.id, state: 'complete', result: 'CANCELLED' });
    const again = await app.inject({ method: 'POST', url: `/api/v1/requests/${request.id}/cancel`, headers: auth });
    expect(again.statusCode).toBe(409);
    const one = (await app.inject({ method: 'GET', url: `/api/v1/requests/${request.id}` })).json();
    expect(one).toMatchObject({ id: request.id, submitted_by: 'bob', state: 'complete' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/requests/999' })).statusCode).toBe(404);
  });

  it('names the build of a claimed request', async () => {
    const { build, request } = await control.startBuild('unix-tests', 'linux-1');
    const one = (await app.inject({ method: 'GET', url: `/api/v1/requests/${request.id}` })).json();
    expect(one).toMatchObject({ state: 'claimed', build_id: build.id });
  });
});

describe('workers', () => {
  it('lists workers in snake_case and shows one', async () => {
    await control.connect('linux-1');
    const { build } = await control.startBuild('unix-tests', 'linux-1');
    const { workers } = (await app.inject({ method: 'GET', url: '/api/v1/workers' })).json();
    expect(workers).toHaveLength(2);
    expect(workers[0]).toMatchObject({
      name: 'linux-1',
      state: 'building',
      connected: true,
      max_builds: 1,
      builds: [build.id],
      info: { os: 'linux' },
      dimensions: { os: 'linux', arch: 'x86_64' },
    });
    expect(workers[1]).toMatchObject({ name: 'mac-1', state: 'offline', connected_at: null, last_seen: null });
    const one = await app.inject({ method: 'GET', url: '/api/v1/workers/mac-1' });
    expect(one.json().name).toBe('mac-1');
    expect((await app.inject({ method: 'GET', url: '/api/v1/workers/nope' })).statusCode).toBe(404);
  });
});

describe('metrics', () => {
  it('serves the Prometheus text with Shepherd metrics', async () => {
    await control.connect('linux-1');
    const { build, steps } = await control.startBuild('unix-tests', 'linux-1');
    await control.finishStep(steps[0]!.id, { duration_ms: 1500 });
    await finishBuild(build.id);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    for (const name of [
      'shepherd_builds_total',
      'shepherd_steps_total',
      'shepherd_step_duration_seconds',
      'shepherd_queue_length',
      'shepherd_workers_connected',
      'shepherd_builds_running',
      'process_cpu_user_seconds_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain('shepherd_builds_total{builder="unix-tests",result="SUCCESS"} 1');
    expect(text).toContain('shepherd_workers_connected 1');
    expect(text).toContain('shepherd_builds_running 0');
  });
});

describe('a running build', () => {
  it("reports a running step's log length including output not yet stored, so a reader opening it now sees it", async () => {
    const { build, steps } = await control.startBuild('unix-tests', 'linux-1');
    control.sendOutput(steps[0]!.id, 'first line\n');
    const detail = (await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}` })).json();
    expect(detail.steps[0]).toMatchObject({ state: 'running', log: { bytes: 11 } });
    const log = await app.inject({ method: 'GET', url: `/api/v1/steps/${steps[0]!.id}/log` });
    expect(log.body).toBe('first line\n');
    await control.finishBuild(build.id);
  });
});
