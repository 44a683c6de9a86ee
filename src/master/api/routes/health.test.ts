/**
 * `GET /api/v1/health` and `/health/history` over the real coordinator and
 * store: workers connect through the worker side of the protocol and builds
 * run there, red and green. `readHealth` takes `now`, so "red for a week" is
 * read a week on; queue waits run on a ManualClock so they have known lengths.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { createHttpServer } from '../server.js';
import { createTestControl, type TestControl } from '../test-control.js';
import { readHealth } from './health.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
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
      queue_waits: [{ builder: 'lib', platform: 'linux-x86_64', builds: 1, p50_ms: expect.any(Number), p95_ms: expect.any(Number) }],
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

describe('queue waits', () => {
  // Its own control on a ManualClock a day in the past, so the route's real `now` sees its builds inside the window.
  let timed: TestControl;
  let timedApp: FastifyInstance;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(Date.now() - DAY);
    timed = await createTestControl({ config: CONFIG, clock });
    timedApp = await createHttpServer(timed, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  });
  afterEach(async () => {
    await timedApp.close();
    await timed.close();
  });

  /** Forces a request for `builder`, lets it wait `ms`, then connects `worker` (if needed) and waits for the build to start. */
  async function waitThenStart(builder: string, worker: string, dimensions: Record<string, string>, ms: number) {
    const request = await timed.force({ builder, properties: {}, reason: 'test', submittedBy: null });
    clock.advance(ms);
    const started = timed.buildStarted(request.id);
    if (!timed.connection(worker)) await timed.connect(worker, dimensions);
    const build = await started;
    await timed.finishBuild(build.id);
    timed.disconnect(worker);
  }

  it('answers p50 and p95 per builder and platform, the longest p95 first', async () => {
    const linux = { os: 'linux', arch: 'x86_64' };
    for (const minutes of [1, 2, 3, 4, 10]) await waitThenStart('lib', 'lx-1', linux, minutes * MINUTE);
    await waitThenStart('mac-app', 'mac-1', { os: 'macos', arch: 'arm64' }, 2 * HOUR);
    await waitThenStart('app', 'lx-2', linux, 30_000);

    const response = await timedApp.inject({ method: 'GET', url: '/api/v1/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json().queue_waits).toEqual([
      { builder: 'mac-app', platform: 'macos-arm64', builds: 1, p50_ms: 2 * HOUR, p95_ms: 2 * HOUR },
      { builder: 'lib', platform: 'linux-x86_64', builds: 5, p50_ms: 3 * MINUTE, p95_ms: 10 * MINUTE },
      { builder: 'app', platform: 'linux-x86_64', builds: 1, p50_ms: 30_000, p95_ms: 30_000 },
    ]);

    // Only builds started within `fleet.health.queue_wait_window` (7 days) count: app's started now, mac-app's 30 s before.
    const later = await readHealth(timed, clock.now() + 7 * DAY - 10_000);
    expect(later.queue_waits.map((q) => q.builder)).toEqual(['app']);
    expect((await readHealth(timed, clock.now() + 7 * DAY + 1)).queue_waits).toEqual([]);
  });
});

describe('GET /api/v1/health/history', () => {
  it('answers the samples of the last `days`, oldest first', async () => {
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    for (const [ago, score] of [[40 * DAY, 10], [3 * DAY, 60], [DAY - HOUR, 70], [HOUR, 80]] as const) {
      await control.store.recordHealthSample({ bucket: hour - ago, at: hour - ago + 5, score, platforms: { 'linux-x86_64': score + 1 } });
    }
    const history = async (query: string) => {
      const response = await app.inject({ method: 'GET', url: `/api/v1/health/history${query}` });
      expect(response.statusCode).toBe(200);
      return response.json().samples;
    };
    expect(await history('?days=1')).toEqual([
      { at: hour - DAY + HOUR + 5, score: 70, platforms: { 'linux-x86_64': 71 } },
      { at: hour - HOUR + 5, score: 80, platforms: { 'linux-x86_64': 81 } },
    ]);
    expect((await history('')).map((s: { score: number }) => s.score)).toEqual([60, 70, 80]);
    expect((await history('?days=366')).map((s: { score: number }) => s.score)).toEqual([10, 60, 70, 80]);
  });

  it('refuses a days that is not a whole number from 1 to 366, naming it', async () => {
    for (const days of ['0', '367', 'abc', '1.5']) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/health/history?days=${days}` });
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('days');
    }
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

describe('readHealth with fleet.health thresholds from the config', () => {
  let tight: TestControl;
  beforeEach(async () => {
    tight = await createTestControl({ config: { ...CONFIG, fleet: { health: { red_for: '1d', stale_after: '2h', suspect_threshold: 1 } } } });
  });
  afterEach(async () => {
    await tight.close();
  });

  it('flags red after red_for, stale after stale_after and a suspect after suspect_threshold cases', async () => {
    await tight.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    const red = await tight.startBuild('lib', 'lx-1').then(({ build }) => tight.finishBuild(build.id, 'FAILURE'));
    expect((await readHealth(tight, red.finishedAt! + DAY - 1)).red_builders).toEqual([]);
    expect((await readHealth(tight, red.finishedAt! + DAY)).red_builders.map((r) => r.builder)).toEqual(['lib']);

    const request = await tight.force({ builder: 'mac-app', properties: {}, reason: 'test', submittedBy: null });
    expect((await readHealth(tight, request.submittedAt + 2 * HOUR - 1)).stale_builders).toEqual([]);
    expect((await readHealth(tight, request.submittedAt + 2 * HOUR)).stale_builders.map((s) => s.builder)).toEqual(['mac-app']);

    // One case is enough with suspect_threshold 1 (the default 3 flags nobody here).
    const { build: failed } = await tight.startBuild('app', 'lx-1');
    await tight.store.updateBuildProperties(failed.id, { got_revision: 'r1' });
    await tight.finishBuild(failed.id, 'FAILURE');
    tight.disconnect('lx-1');
    const { build: passed } = await tight.startBuild('app', 'lx-2');
    await tight.store.updateBuildProperties(passed.id, { got_revision: 'r1' });
    await tight.finishBuild(passed.id, 'SUCCESS');
    expect((await readHealth(tight, Date.now())).suspect_workers.map((s) => [s.worker, s.count])).toEqual([['lx-1', 1]]);
  });
});
