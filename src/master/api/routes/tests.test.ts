/**
 * The test-result routes over the real store, with results stored by the
 * real TestResultsService from JUnit documents, as the coordinator will.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepConfig } from '../../config/schema.js';
import type { Build, Result } from '../../domain.js';
import { TestResultsService } from '../../tests/test-results-service.js';
import { createHttpServer } from '../server.js';
import { createTestControl, TEST_TOKEN, type TestControl } from '../test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN', quarantine: [{ test: 'ssl.*', reason: 'certificates expire' }] },
  workers: [
    { name: 'z-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 's390x', libc: 'glibc' } },
    { name: 'z-2', secret_env: 'W2', dimensions: { os: 'linux', arch: 's390x', libc: 'musl' } },
    { name: 'x-1', secret_env: 'W3', dimensions: { os: 'linux', arch: 'x86_64', libc: 'glibc' } },
  ],
  builders: [
    {
      name: 'unix',
      workers: { os: 'linux' },
      steps: [{ name: 'test', run: 'make test', test_results: { junit: 'results.xml' } }],
      quarantine: [{ test: 'io.test_slow', reason: 'times out under load' }],
    },
  ],
};

let control: TestControl;
let app: FastifyInstance;
let service: TestResultsService;

beforeEach(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  service = new TestResultsService({ store: control.store, config: control.config, clock: { now: () => Date.now() } });
});
afterEach(async () => {
  await app.close();
  await control.close();
});

/** A build of `unix` on `worker` at `revision` whose test step wrote `cases`; the service stores its results. */
async function buildWith(worker: string, revision: string, cases: string, result: Result): Promise<Build> {
  const request = await control.store.enqueueRequest({ builder: 'unix', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: Date.now() });
  const started = await control.store.startBuild({ requestId: request.id, builder: 'unix', worker, properties: { got_revision: revision }, steps: ['test'], startedAt: Date.now() });
  const { build, steps } = started!;
  await service.afterStep({
    build,
    step: steps[0]!,
    stepConfig: control.config.builders[0]!.steps[0] as StepConfig,
    workerDimensions: CONFIG.workers.find((w) => w.name === worker)!.dimensions,
    processResult: result,
    summary: result === 'FAILURE' ? 'exit code 1' : null,
    readLog: async function* () {},
    junitFiles: async () => [{ name: 'results.xml', open: async () => Buffer.from(`<testsuite name="all">${cases}</testsuite>`) }],
  });
  return build;
}

const pass = (name: string) => `<testcase classname="io" name="${name}" time="0.5"/>`;
const fail = (name: string) => `<testcase classname="io" name="${name}"><failure message="wrong byte order">AssertionError: wrong byte order</failure></testcase>`;

async function get(url: string) {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.json() };
}

describe('GET /api/v1/builds/:id/tests', () => {
  it('answers "N failed of M" with the failures first, paged', async () => {
    const build = await buildWith('x-1', 'abc', pass('test_a') + fail('test_b') + pass('test_c') + fail('test_slow'), 'FAILURE');
    const { status, body } = await get(`/api/v1/builds/${build.id}/tests?limit=2`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ build_id: build.id, summary: '2 failed of 4', counts: { failed: 2, error: 0, skipped: 0, passed: 2 }, total: 4, quarantined: 1, next_offset: 2 });
    expect(body.tests.map((t: { name: string; quarantined: boolean }) => [t.name, t.quarantined])).toEqual([
      ['io.test_b', false],
      ['io.test_slow', true],
    ]);
    expect(body.tests[0]).toMatchObject({ builder: 'unix', worker: 'x-1', platform: 'arch=x86_64 libc=glibc os=linux', revision: 'abc', message: 'AssertionError: wrong byte order' });
    const next = await get(`/api/v1/builds/${build.id}/tests?limit=2&offset=2`);
    expect(next.body.tests.map((t: { name: string }) => t.name)).toEqual(['io.test_a', 'io.test_c']);
    expect(next.body.next_offset).toBeNull();
    expect((await get(`/api/v1/builds/${build.id}/tests?failures=1`)).body.tests).toHaveLength(2);
    expect(await get('/api/v1/builds/999/tests')).toMatchObject({ status: 404, body: { error: { code: 'SHEPHERD_E_NOT_FOUND' } } });
    expect(await get(`/api/v1/builds/${build.id}/tests?limit=0`)).toMatchObject({ status: 400, body: { error: { details: { field: 'limit' } } } });
  });
});

describe('GET /api/v1/tests/history', () => {
  it('lists every run and names the dimension separating failing workers from passing ones', async () => {
    await buildWith('x-1', 'old', pass('test_endian'), 'SUCCESS');
    await buildWith('z-1', 'abc', fail('test_endian'), 'FAILURE');
    await buildWith('z-2', 'abc', fail('test_endian'), 'FAILURE');
    await buildWith('x-1', 'abc', pass('test_endian'), 'SUCCESS');
    const { status, body } = await get('/api/v1/tests/history?name=io.test_endian');
    expect(status).toBe(200);
    expect(body.runs.map((r: { worker: string; revision: string; result: string; flaky: boolean }) => [r.worker, r.revision, r.result, r.flaky])).toEqual([
      ['x-1', 'abc', 'passed', false],
      ['z-2', 'abc', 'failed', false],
      ['z-1', 'abc', 'failed', false],
      ['x-1', 'old', 'passed', false],
    ]);
    expect(body.separation).toEqual({
      revision: 'abc',
      failing_workers: ['z-1', 'z-2'],
      passing_workers: ['x-1'],
      values: [{ key: 'arch', value: 's390x' }],
      keys: [],
      sentence: 'fails only where arch=s390x',
    });
    const page = await get('/api/v1/tests/history?name=io.test_endian&limit=1');
    expect(page.body.runs).toHaveLength(1);
    expect((await get(`/api/v1/tests/history?name=io.test_endian&limit=5&before=${page.body.next}`)).body.runs).toHaveLength(3);
    expect((await get('/api/v1/tests/history?name=io.nothing')).body).toEqual({ name: 'io.nothing', runs: [], next: null, separation: null });
    expect(await get('/api/v1/tests/history')).toMatchObject({ status: 400, body: { error: { details: { field: 'name' } } } });
  });

  it('marks a test flaky when it fails and passes at one revision on the same worker', async () => {
    await buildWith('x-1', 'abc', fail('test_race'), 'FAILURE');
    await buildWith('x-1', 'abc', pass('test_race'), 'SUCCESS');
    const { body } = await get('/api/v1/tests/history?name=io.test_race');
    expect(body.runs.map((r: { flaky: boolean }) => r.flaky)).toEqual([true, true]);
    expect(body.separation).toMatchObject({ failing_workers: [], passing_workers: [], sentence: null });
  });
});

describe('/api/v1/quarantine', () => {
  it('lists config entries, adds and removes API ones with the token', async () => {
    const auth = { authorization: `Bearer ${TEST_TOKEN}` };
    expect((await get('/api/v1/quarantine')).body.entries).toEqual([
      { id: null, source: 'config', test: 'ssl.*', builders: null, reason: 'certificates expire', added_by: null, added_at: null },
      { id: null, source: 'config', test: 'io.test_slow', builders: ['unix'], reason: 'times out under load', added_by: null, added_at: null },
    ]);
    const payload = { test: 'io.test_b', reason: 'issue 12', builders: ['unix'], added_by: 'ada' };
    expect((await app.inject({ method: 'POST', url: '/api/v1/quarantine', payload })).statusCode).toBe(401);
    const refused = await app.inject({ method: 'POST', url: '/api/v1/quarantine', headers: auth, payload: { ...payload, builders: ['nope'] } });
    expect(refused.json()).toMatchObject({ error: { code: 'SHEPHERD_E_VALIDATION', details: { field: 'builders[0]' } } });
    const added = await app.inject({ method: 'POST', url: '/api/v1/quarantine', headers: auth, payload });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ id: expect.any(Number), source: 'api', test: 'io.test_b', builders: ['unix'], added_by: 'ada' });

    // From now on, its failures make the step WARNINGS.
    const build = await buildWith('x-1', 'abc', fail('test_b'), 'FAILURE');
    expect((await get(`/api/v1/builds/${build.id}/tests`)).body.tests[0]).toMatchObject({ name: 'io.test_b', quarantined: true });

    const id = added.json().id as number;
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/quarantine/${id}`, headers: auth })).json()).toEqual({ ok: true });
    const again = await app.inject({ method: 'DELETE', url: `/api/v1/quarantine/${id}`, headers: auth });
    expect(again.statusCode).toBe(404);
    expect((await get('/api/v1/quarantine')).body.entries).toHaveLength(2);
  });
});
