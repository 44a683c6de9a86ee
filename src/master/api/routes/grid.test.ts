/**
 * `GET /api/v1/grid` over the real coordinator and store: builds run through
 * the worker side of the protocol, blamelists filled as production fills them.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build, Change } from '../../domain.js';
import { createHttpServer } from '../server.js';
import { createTestControl, type TestControl } from '../test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [{ name: 'w1', secret_env: 'W1', max_builds: 3 }],
  builders: [
    { name: 'linux-gcc', workers: ['w1'], tags: ['unix'], steps: [{ name: 'make', run: 'make' }] },
    { name: 'linux-clang', workers: ['w1'], tags: ['unix', 'clang'], steps: [{ name: 'make', run: 'make' }] },
    { name: 'mac-build', workers: ['w1'], tags: ['mac'], steps: [{ name: 'make', run: 'make' }] },
  ],
};

let control: TestControl;
let app: FastifyInstance;
let c1: Change, c2: Change, c3: Change, d1: Change;
let collapsed: Build, gccFirst: Build, gccAgain: Build, clangRunning: Build, mac: Build;

/** Forces a build for these changes and waits until it runs; finishes it unless `result` is undefined. */
async function build(builder: string, changeIds: number[], result: 'SUCCESS' | 'FAILURE' | undefined): Promise<Build> {
  const request = await control.force({ builder, properties: {}, reason: 'test', submittedBy: null, changeIds });
  const started = await control.buildStarted(request.id);
  if (result === undefined) return started;
  return control.finishBuild(started.id, result);
}

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await control.connect('w1');
  const change = (branch: string, revision: string) => ({
    source: 'src',
    repository: 'file:///srv/src.git',
    branch,
    revision,
    author: 'A <a@example.org>',
    committer: 'A <a@example.org>',
    message: revision,
    files: ['x'],
    when: 1,
    via: 'poll' as const,
  });
  [c1, c2, c3, d1] = (await control.store.recordChanges(
    'src',
    [change('main', 'c1'), change('main', 'c2'), change('main', 'c3'), change('dev', 'd1')],
    {},
    Date.now(),
  )) as [Change, Change, Change, Change];
  collapsed = await build('linux-gcc', [c1.id, c2.id], 'FAILURE');
  gccFirst = await build('linux-gcc', [c3.id], 'SUCCESS');
  gccAgain = await build('linux-gcc', [c3.id], 'SUCCESS');
  mac = await build('mac-build', [d1.id], 'SUCCESS');
  await build('mac-build', [], 'SUCCESS');
  clangRunning = await build('linux-clang', [c3.id], undefined);
});
afterAll(async () => {
  await app.close();
  await control.close();
});

async function grid(query = ''): Promise<any> {
  const response = await app.inject({ method: 'GET', url: `/api/v1/grid${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

const cell = (change: Change, b: Build) => ({ change_id: change.id, builder: b.builder, build_id: b.id, number: b.number, state: b.state, result: b.result });

describe('GET /api/v1/grid', () => {
  it('gives the newest changes, the builders and every build under each change of its blamelist, newest first', async () => {
    const body = await grid();
    expect(body.builders).toEqual([
      { name: 'linux-gcc', tags: ['unix'] },
      { name: 'linux-clang', tags: ['unix', 'clang'] },
      { name: 'mac-build', tags: ['mac'] },
    ]);
    expect(body.changes.map((c: any) => c.revision)).toEqual(['d1', 'c3', 'c2', 'c1']);
    expect(body.changes[0]).toMatchObject({ id: d1.id, branch: 'dev', author: 'A <a@example.org>', files: ['x'] });
    // The collapsed build sits under both its changes; the forced build with no changes nowhere.
    expect(body.cells).toEqual([
      cell(d1, mac),
      cell(c3, clangRunning),
      cell(c3, gccAgain),
      cell(c3, gccFirst),
      cell(c2, collapsed),
      cell(c1, collapsed),
    ]);
    expect(body.cells[1]).toMatchObject({ state: 'running', result: null });
  });

  it('filters builders by part of the name (any case) and by tag, and changes by branch, source and number', async () => {
    const linux = await grid('?builder=LINUX');
    expect(linux.builders.map((b: any) => b.name)).toEqual(['linux-gcc', 'linux-clang']);
    expect(linux.cells.map((c: any) => c.build_id)).toEqual([clangRunning.id, gccAgain.id, gccFirst.id, collapsed.id, collapsed.id]);

    const clang = await grid('?tag=clang');
    expect(clang.builders.map((b: any) => b.name)).toEqual(['linux-clang']);
    expect(clang.cells).toEqual([cell(c3, clangRunning)]);
    expect((await grid('?tag=unix&builder=gcc')).builders.map((b: any) => b.name)).toEqual(['linux-gcc']);
    expect(await grid('?tag=nope')).toMatchObject({ builders: [], cells: [] });

    const main = await grid('?branch=main&changes=2');
    expect(main.changes.map((c: any) => c.revision)).toEqual(['c3', 'c2']);
    expect(main.cells.map((c: any) => [c.change_id, c.build_id])).toEqual([
      [c3.id, clangRunning.id],
      [c3.id, gccAgain.id],
      [c3.id, gccFirst.id],
      [c2.id, collapsed.id],
    ]);
    expect(await grid('?source=elsewhere')).toMatchObject({ changes: [], cells: [] });
    expect((await grid('?source=src&branch=dev')).cells).toEqual([cell(d1, mac)]);
  });

  it('refuses bad filters naming the field', async () => {
    for (const [query, field] of [
      ['?changes=0', 'changes'],
      ['?changes=201', 'changes'],
      ['?colour=red', 'colour'],
    ] as const) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/grid${query}` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'SHEPHERD_E_VALIDATION', details: { field } });
    }
  });
});
