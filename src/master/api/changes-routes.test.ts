/**
 * The change and scheduler routes over the real coordinator, store and
 * scheduler service: changes with the builds that blame them, blamelists on
 * builds, forcing with typed parameters (refused naming the field, before
 * anything is queued), try uploads and their limits.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import type { Change } from '../domain.js';
import { SchedulerService } from '../schedulers/scheduler-service.js';
import { createHttpServer } from './server.js';
import { TEST_TOKEN, createTestControl, type TestControl } from './test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [{ name: 'linux-1', secret_env: 'W1', max_builds: 2, dimensions: { os: 'linux' } }],
  changes: [{ name: 'proj', git: 'file:///srv/proj.git', branches: ['main'], repository: 'example/proj' }],
  schedulers: [
    {
      name: 'force',
      builders: ['unix-tests'],
      force: {
        params: {
          verbose: { type: 'boolean' },
          mode: { type: 'choice', choices: ['debug', 'release'], default: 'debug' },
        },
      },
    },
    { name: 'try', builders: ['unix-tests'], try: { max_patch: '1KB' } },
  ],
  builders: [{ name: 'unix-tests', workers: { os: 'linux' }, steps: [{ name: 'test', run: 'make test' }] }],
};

let control: TestControl;
let schedulers: SchedulerService;
let app: FastifyInstance;
let changes: Change[];

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const DIFF = 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n';

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  schedulers = new SchedulerService({
    config: control.config,
    store: control.store,
    events: control.events,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    submit: (input) => control.force(input),
  });
  await schedulers.start();
  await control.connect('linux-1');
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), schedulers });
  const base = { source: 'proj', repository: 'file:///srv/proj.git', branch: 'main', committer: 'C <c@example.org>', files: ['x'], via: 'poll' as const };
  changes = await control.store.recordChanges(
    'proj',
    [1, 2, 3].map((n) => ({ ...base, revision: `${n}`.repeat(40), author: `A${n} <a${n}@example.org>`, message: `change ${n}`, when: n })),
    { main: '3'.repeat(40) },
    Date.now(),
  );
});
afterAll(async () => {
  await app.close();
  await schedulers.stop();
  await control.close();
});

describe('changes', () => {
  it('lists changes newest first with the builds that blame them, in pages', async () => {
    const request = await control.force({
      builder: 'unix-tests',
      properties: { revision: changes[2]!.revision, branch: 'main', source: 'proj' },
      reason: 'two changes',
      submittedBy: null,
      changeIds: [changes[1]!.id, changes[2]!.id],
      collapseKey: 'proj\nmain',
    });
    const build = await control.buildStarted(request.id);
    await control.finishBuild(build.id);

    const first = (await app.inject({ method: 'GET', url: '/api/v1/changes?limit=2' })).json();
    expect(first.changes.map((c: any) => c.message)).toEqual(['change 3', 'change 2']);
    expect(first.changes[0]).toMatchObject({ author: 'A3 <a3@example.org>', files: ['x'], via: 'poll', builds: [{ id: build.id, builder: 'unix-tests', result: 'SUCCESS' }] });
    const second = (await app.inject({ method: 'GET', url: `/api/v1/changes?limit=2&before=${first.next}` })).json();
    expect(second).toMatchObject({ changes: [{ message: 'change 1', builds: [] }], next: null });

    const detail = (await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}` })).json();
    expect(detail.revision).toBe(changes[2]!.revision);
    expect(detail.blamelist.map((c: any) => c.message)).toEqual(['change 2', 'change 3']);
    const queued = (await app.inject({ method: 'GET', url: `/api/v1/requests/${request.id}` })).json();
    expect(queued).toMatchObject({ change_ids: [changes[1]!.id, changes[2]!.id], patch_id: null, scheduler: null });

    expect((await app.inject({ method: 'GET', url: `/api/v1/changes/${changes[0]!.id}` })).json().change.message).toBe('change 1');
    expect((await app.inject({ method: 'GET', url: '/api/v1/changes/999' })).statusCode).toBe(404);
  });

  it('lists the change sources with their heads; polling needs the token and a known source', async () => {
    const { sources } = (await app.inject({ method: 'GET', url: '/api/v1/sources' })).json();
    expect(sources).toEqual([{ name: 'proj', git: 'file:///srv/proj.git', branches: ['main'], poll_ms: 0, repository: 'example/proj', heads: { main: '3'.repeat(40) } }]);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sources/proj/poll' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sources/nope/poll', headers: auth })).statusCode).toBe(404);
  });
});

describe('schedulers', () => {
  it('lists the schedulers with their force parameters', async () => {
    const { schedulers: list } = (await app.inject({ method: 'GET', url: '/api/v1/schedulers' })).json();
    expect(list.map((s: any) => [s.name, s.kind, s.builders])).toEqual([
      ['force', 'force', ['unix-tests']],
      ['try', 'try', ['unix-tests']],
    ]);
    expect(list[0].params.mode).toMatchObject({ type: 'choice', choices: ['debug', 'release'], default: 'debug' });
  });

  it('forces with typed parameters, refusing a bad one by name before queueing anything', async () => {
    const before = (await control.store.listQueuedRequests()).length;
    const bad = await app.inject({ method: 'POST', url: '/api/v1/schedulers/force/force', headers: auth, payload: { params: { mode: 'fast' } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'SHEPHERD_E_VALIDATION', details: { field: 'params.mode' } });
    expect(bad.json().error.message).toContain('debug, release');
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/schedulers/force/force', headers: auth, payload: { params: { colour: 'red' } } });
    expect(unknown.json().error.details).toEqual({ field: 'params.colour' });
    expect((await control.store.listQueuedRequests()).length).toBe(before);
    expect((await app.inject({ method: 'POST', url: '/api/v1/schedulers/try/force', headers: auth, payload: {} })).statusCode).toBe(404);

    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/schedulers/force/force',
      headers: auth,
      payload: { params: { verbose: true }, reason: 'bisecting', submitted_by: 'ada' },
    });
    expect(ok.statusCode).toBe(201);
    const [request] = ok.json().requests;
    expect(request).toMatchObject({ builder: 'unix-tests', reason: 'bisecting', submitted_by: 'ada', scheduler: 'force' });
    expect(request.properties).toMatchObject({ verbose: 'true', mode: 'debug', scheduler: 'force' });
    await control.finishBuild((await control.buildStarted(request.id)).id);
  });

  it('takes a try patch, refusing oversized, empty and non-diff ones', async () => {
    const post = (body: object, headers: Record<string, string> = auth) => app.inject({ method: 'POST', url: '/api/v1/try', headers, payload: body });
    const body = { builders: ['unix-tests'], patch_base64: Buffer.from(DIFF).toString('base64'), base_revision: changes[0]!.revision, author: 'Tia <tia@example.org>' };
    expect((await post(body, {})).statusCode).toBe(401);
    const tooBig = await post({ ...body, patch_base64: Buffer.from(DIFF + 'x'.repeat(2000)).toString('base64') });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error.code).toBe('SHEPHERD_E_PATCH');
    expect((await post({ ...body, patch_base64: Buffer.from('hello').toString('base64') })).json().error.code).toBe('SHEPHERD_E_PATCH');
    expect((await post({ ...body, builders: [] })).json().error.details).toMatchObject({ field: 'builders' });

    const ok = await post({ ...body, comment: 'does it build?' });
    expect(ok.statusCode).toBe(201);
    const { patch, requests } = ok.json();
    expect(patch).toMatchObject({ source: 'proj', base_revision: changes[0]!.revision, branch: 'main', author: 'Tia <tia@example.org>', size_bytes: DIFF.length });
    expect(requests[0]).toMatchObject({ patch_id: patch.id, scheduler: 'try', properties: { revision: changes[0]!.revision } });
    expect((await control.store.getPatch(patch.id))!.data.toString()).toBe(DIFF);
    await control.finishBuild((await control.buildStarted(requests[0].id)).id);
  });
});
