/**
 * `GET /api/v1/overview` over the real coordinator and store: every build
 * here was run through the worker side of the protocol.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Build, Change } from '../../domain.js';
import { createHttpServer } from '../server.js';
import { createTestControl, type TestControl } from '../test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'linux-1', secret_env: 'W1' },
    { name: 'mac-1', secret_env: 'W2' },
    { name: 'old-1', secret_env: 'W3' },
  ],
  builders: ['app', 'lib', 'docs', 'tryonly'].map((name) => ({
    name,
    workers: ['linux-1'],
    tags: name === 'app' ? ['unix', 'gate'] : [],
    steps: [{ name: 'make', run: 'make' }],
  })),
};

let control: TestControl;
let app: FastifyInstance;

async function start(): Promise<void> {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
}

afterEach(async () => {
  await app.close();
  await control.close();
});

async function overview(): Promise<any> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/overview' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Forces a build of `builder` on linux-1 and waits until its first step runs. */
async function started(builder: string, extra: { changeIds?: number[]; patchId?: number } = {}) {
  const request = await control.force({ builder, properties: {}, reason: 'test', submittedBy: 'test', ...extra });
  const build = await control.buildStarted(request.id);
  const step = await control.nextStep(build.id);
  return { request, build, step };
}

/** Runs a build of `builder` to SUCCESS or FAILURE. */
async function run(builder: string, result: 'SUCCESS' | 'FAILURE', extra: { changeIds?: number[]; patchId?: number } = {}): Promise<Build> {
  const { step, build } = await started(builder, extra);
  await control.finishStep(step.id, result === 'FAILURE' ? { exit_code: 1 } : {});
  return control.buildFinished(build.id);
}

async function recordChanges(...revisions: string[]): Promise<Change[]> {
  return control.store.recordChanges(
    'src',
    revisions.map((revision) => ({
      source: 'src',
      repository: 'file:///srv/src.git',
      branch: 'main',
      revision,
      author: `${revision} <${revision}@example.org>`,
      committer: 'c',
      message: `change ${revision}`,
      files: [],
      when: 1,
      via: 'poll' as const,
    })),
    {},
    Date.now(),
  );
}

describe('GET /api/v1/overview', () => {
  it('lists the failing builders, longest-failing first, each since the first build of its streak', async () => {
    await start();
    await control.connect('linux-1');
    const [c1, c2] = await recordChanges('c1', 'c2');
    const patch = await control.store.addPatch({ source: 'src', baseRevision: '', branch: 'main', author: 'T <t@example.org>', comment: '', createdAt: 1, data: Buffer.from('diff') });

    // lib fails first; a RETRY (its rerun fails too), a passing try build and a cancelled build do not end the streak.
    const libFirst = await run('lib', 'FAILURE');
    const retried = await started('lib');
    control.disconnect('linux-1');
    await control.connect('linux-1', {}, []);
    expect((await control.buildFinished(retried.build.id)).result).toBe('RETRY');
    const rerun = await control.buildStarted(retried.request.id);
    await control.finishStep((await control.nextStep(rerun.id)).id, { exit_code: 1 });
    expect((await control.buildFinished(rerun.id)).result).toBe('FAILURE');
    await run('lib', 'SUCCESS', { patchId: patch.id });
    const cancelled = await started('lib');
    await control.cancelBuild(cancelled.build.id, 'test');
    await control.finishStep(cancelled.step.id, { exit_code: null, signal: 'SIGTERM', ended_by: 'cancel' });
    expect((await control.buildFinished(cancelled.build.id)).result).toBe('CANCELLED');

    // app passed, then failed twice: the first failure carries the blamelist.
    await run('app', 'SUCCESS');
    const appFirst = await run('app', 'FAILURE', { changeIds: [c1!.id, c2!.id] });
    const appLast = await run('app', 'FAILURE');

    // docs recovered; tryonly failed only in a try build.
    await run('docs', 'FAILURE');
    await run('docs', 'SUCCESS');
    await run('tryonly', 'FAILURE', { patchId: patch.id });

    const { failing } = await overview();
    expect(failing.map((f: any) => f.builder)).toEqual(['lib', 'app']);
    const [lib, appEntry] = failing;
    expect(lib).toMatchObject({
      since: libFirst.startedAt,
      failing_builds: 2,
      first_failing: { id: libFirst.id, result: 'FAILURE', blamelist: [] },
      last: { id: cancelled.build.id, result: 'CANCELLED' },
      tags: [],
    });
    expect(appEntry).toMatchObject({
      builder: 'app',
      tags: ['unix', 'gate'],
      since: appFirst.startedAt,
      failing_builds: 2,
      first_failing: { id: appFirst.id, number: appFirst.number, state: 'finished' },
      last: { id: appLast.id, result: 'FAILURE' },
    });
    expect(appEntry.first_failing.blamelist.map((c: any) => c.revision)).toEqual(['c1', 'c2']);
    expect(appEntry.first_failing.blamelist[0]).toMatchObject({ author: 'c1 <c1@example.org>', branch: 'main' });

    // A pass ends app's streak.
    await run('app', 'SUCCESS');
    expect((await overview()).failing.map((f: any) => f.builder)).toEqual(['lib']);
  });

  it('counts connected workers and lists the offline ones with when they were last seen and their admin', async () => {
    await start();
    await control.connect('linux-1');
    await control.connect('mac-1', { admin: 'Mac Admin <mac@example.org>' });
    control.disconnect('mac-1');
    const { workers } = await overview();
    expect(workers.total).toBe(3);
    expect(workers.connected).toBe(1);
    expect(workers.offline).toEqual([
      { name: 'mac-1', last_seen: expect.any(Number), admin: 'Mac Admin <mac@example.org>' },
      { name: 'old-1', last_seen: null, admin: null },
    ]);
  });

  it('shows the queue length, the request waiting longest and the running builds', async () => {
    await start();
    const empty = await overview();
    expect(empty).toEqual({ failing: [], workers: { total: 3, connected: 0, offline: expect.any(Array) }, queue: { length: 0, oldest: null }, running: [] });

    await control.connect('linux-1');
    const running = await started('app');
    // linux-1 runs one build at a time: these wait.
    const first = await control.force({ builder: 'lib', properties: {}, reason: 'first', submittedBy: 'ada' });
    await control.force({ builder: 'docs', properties: {}, reason: 'second', submittedBy: 'bob', priority: 5 });
    const body = await overview();
    expect(body.queue).toEqual({ length: 2, oldest: expect.objectContaining({ id: first.id, builder: 'lib', reason: 'first', state: 'queued' }) });
    expect(body.running).toEqual([expect.objectContaining({ id: running.build.id, builder: 'app', state: 'running', result: null })]);
    expect(body.workers.connected).toBe(1);
  });
});
