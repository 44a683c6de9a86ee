/**
 * `GET /api/v1/health` over the real coordinator and store: workers connect
 * through the worker side of the protocol and builds run there, red and
 * green. `readHealth` takes `now`, so "red for a week" is read a week on.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../server.js';
import { createTestControl, type TestControl } from '../test-control.js';
import { readHealth } from './health.js';

const DAY = 86_400_000;

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'lx-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' }, admins: ['Ada <ada@example.org>'] },
    { name: 'lx-2', secret_env: 'W2', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'mac-1', secret_env: 'W3', dimensions: { os: 'macos', arch: 'arm64' } },
  ],
  builders: [
    { name: 'lib', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'app', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'doc', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'mac-app', workers: ['mac-1'], steps: [{ name: 'make', run: 'make' }] },
  ],
  platforms: [
    { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
    { name: 'macos-arm64', select: { os: 'macos', arch: 'arm64' }, tier: 2, redundancy: 1 },
  ],
};

let control: TestControl;
let app: FastifyInstance;

beforeEach(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
});
afterEach(async () => {
  await app.close();
  await control.close();
});

async function health(): Promise<any> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/health' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Runs a build of `builder` on `worker` at `revision` to the result given. */
async function run(builder: string, worker: string, result: 'SUCCESS' | 'FAILURE', revision?: string) {
  const { build } = await control.startBuild(builder, worker);
  if (revision) await control.store.updateBuildProperties(build.id, { got_revision: revision });
  return control.finishBuild(build.id, result);
}

describe('GET /api/v1/health', () => {
  it('scores a fully covered, green farm 100 with nothing to act on', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await control.connect('lx-2', { os: 'linux', arch: 'x86_64' });
    await control.connect('mac-1', { os: 'macos', arch: 'arm64' });
    await run('lib', 'lx-1', 'SUCCESS');
    const body = await health();
    expect(body).toEqual({
      score: 100,
      platforms: [
        { name: 'linux-x86_64', tier: 1, score: 100, live: 2, redundancy: 2, short: false },
        { name: 'macos-arm64', tier: 2, score: 100, live: 1, redundancy: 1, short: false },
      ],
      red_builders: [],
      stale_builders: [],
      suspect_workers: [],
      missing_workers: [],
      worker_states: { building: 0, idle: 3, paused: 0, offline: 0, missing: 0, orphaned: 0 },
      attention: [],
    });
  });

  it('puts a short tier-1 platform first in what to act on', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    const body = await health();
    expect(body.platforms[0]).toMatchObject({ name: 'linux-x86_64', score: 50, live: 1, short: true });
    expect(body.platforms[1]).toMatchObject({ name: 'macos-arm64', score: 0, live: 0, short: true });
    // Coverage: (1 * 0.5 + 0.5 * 0) / 1.5 of 50 = 16.67 points of 50.
    expect(body.score).toBe(67);
    expect(body.attention.map((a: { kind: string; subject: string }) => `${a.kind} ${a.subject}`)).toEqual([
      'platform_short linux-x86_64',
      'platform_short macos-arm64',
    ]);
  });
});

describe('readHealth', () => {
  it('flags a builder red for a week, with its first failing build, but not one red for a day', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await run('lib', 'lx-1', 'SUCCESS');
    const first = await run('lib', 'lx-1', 'FAILURE');
    await run('lib', 'lx-1', 'FAILURE');
    await run('app', 'lx-1', 'FAILURE');
    expect((await readHealth(control, first.finishedAt! + DAY)).red_builders).toEqual([]);

    const later = await readHealth(control, first.finishedAt! + 7 * DAY + 60_000);
    expect(later.red_builders.map((r) => r.builder).sort()).toEqual(['app', 'lib']);
    expect(later.red_builders.find((r) => r.builder === 'lib')).toEqual({
      builder: 'lib',
      count: 2,
      since: first.finishedAt,
      first_failing_build_id: first.id,
    });
    expect(later.attention.filter((a) => a.kind === 'builder_red').map((a) => a.subject).sort()).toEqual(['app', 'lib']);
  });

  it('flags a worker failing three revisions another worker passed, with the builds as evidence', async () => {
    // One linux worker connected at a time, so each build runs where it is meant to.
    const alone = (worker: string) => {
      for (const other of ['lx-1', 'lx-2']) if (other !== worker && control.connection(other)) control.disconnect(other);
    };
    const cases: { failed: number; passed: number }[] = [];
    for (const [builder, revision] of [['lib', 'r1'], ['app', 'r2'], ['doc', 'r3']] as const) {
      alone('lx-2');
      const failed = await run(builder, 'lx-2', 'FAILURE', revision);
      alone('lx-1');
      const passed = await run(builder, 'lx-1', 'SUCCESS', revision);
      cases.push({ failed: failed.id, passed: passed.id });
    }
    const body = await readHealth(control, Date.now());
    expect(body.suspect_workers).toHaveLength(1);
    expect(body.suspect_workers[0]).toMatchObject({ worker: 'lx-2', count: 3 });
    expect(body.suspect_workers[0]!.evidence.map((e) => [e.builder, e.revision, e.failed_build_id, e.passed_on, e.passed_build_id]).sort()).toEqual(
      [
        ['lib', 'r1', cases[0]!.failed, 'lx-1', cases[0]!.passed],
        ['app', 'r2', cases[1]!.failed, 'lx-1', cases[1]!.passed],
        ['doc', 'r3', cases[2]!.failed, 'lx-1', cases[2]!.passed],
      ].sort(),
    );
    expect(body.attention.some((a) => a.kind === 'worker_suspect' && a.subject === 'lx-2')).toBe(true);
  });

  it('flags a builder whose request has waited a day with no build finishing as stale', async () => {
    // Nobody runs mac-app: its request waits.
    const request = await control.force({ builder: 'mac-app', properties: {}, reason: 'test', submittedBy: null });
    expect((await readHealth(control, request.submittedAt + DAY - 1)).stale_builders).toEqual([]);
    const body = await readHealth(control, request.submittedAt + DAY);
    expect(body.stale_builders).toEqual([{ builder: 'mac-app', since: request.submittedAt }]);
  });

  it('lists missing and orphaned workers with their admins, from the fleet state the coordinator shows', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await control.connect('lx-2', { os: 'linux', arch: 'x86_64' });
    control.disconnect('lx-1');
    control.disconnect('lx-2');
    // What the fleet service announces once they have been away long enough.
    control.events.emit('worker:state', { worker: 'lx-1', from: 'offline', to: 'orphaned' });
    control.events.emit('worker:state', { worker: 'lx-2', from: 'offline', to: 'missing' });
    const views = new Map((await control.workers()).map((v) => [v.name, v]));
    const body = await readHealth(control, Date.now());
    expect(body.missing_workers).toEqual([
      { name: 'lx-1', state: 'orphaned', since: views.get('lx-1')!.lastSeen, admins: ['Ada <ada@example.org>'] },
      { name: 'lx-2', state: 'missing', since: views.get('lx-2')!.lastSeen, admins: views.get('lx-2')!.admins },
    ]);
    expect(body.worker_states).toMatchObject({ idle: 0, offline: 1, missing: 1, orphaned: 1 });
    expect(body.attention.slice(0, 2).map((a) => `${a.kind} ${a.subject}`)).toEqual(['platform_short linux-x86_64', 'platform_short macos-arm64']);
    expect(body.attention.slice(2).map((a) => `${a.kind} ${a.subject}`)).toEqual(['worker_orphaned lx-1', 'worker_missing lx-2']);
  });
});
