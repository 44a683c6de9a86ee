import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import { ShepherdError } from '../errors.js';
import type { NewRequest, Store } from './store.js';

const T0 = 1_700_000_000_000;

function request(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    builder: 'linux',
    priority: 0,
    properties: { branch: 'main' },
    reason: 'forced',
    submittedBy: 'alice',
    submittedAt: T0,
    ...overrides,
  };
}

describe.each(DATABASES)('store on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  /** Enqueues a request and starts its build. */
  async function started(builder = 'linux', steps = ['checkout', 'compile'], worker = 'w1', at = T0) {
    const req = await store.enqueueRequest(request({ builder, submittedAt: at }));
    const result = await store.startBuild({ requestId: req.id, builder, worker, properties: { branch: 'main' }, steps, startedAt: at + 1 });
    if (!result) throw new Error('startBuild did not claim a fresh request');
    return result;
  }

  async function finished(builder: string, result: 'SUCCESS' | 'FAILURE', worker = 'w1', at = T0) {
    const { build } = await started(builder, ['only'], worker, at);
    return (await store.finishBuild(build.id, { result, summary: null, finishedAt: at + 10, requeue: false })).build;
  }

  it('reports its dialect', () => {
    expect(store.dialect).toBe(kind);
  });

  describe('requests', () => {
    it('enqueues a request as queued and reads it back', async () => {
      const req = await store.enqueueRequest(request({ properties: { branch: 'dev', 'ünïcode': '✓' }, submittedBy: null }));
      expect(req).toEqual({
        id: expect.any(Number),
        builder: 'linux',
        priority: 0,
        properties: { branch: 'dev', 'ünïcode': '✓' },
        reason: 'forced',
        submittedBy: null,
        submittedAt: T0,
        state: 'queued',
        buildId: null,
        result: null,
        scheduler: null,
        collapseKey: null,
        patchId: null,
        changeIds: [],
      });
      expect(await store.getRequest(req.id)).toEqual(req);
      expect(await store.getRequest(req.id + 1000)).toBeUndefined();
    });

    it('lists queued requests by priority desc, then submittedAt, then id', async () => {
      const a = await store.enqueueRequest(request({ priority: 0, submittedAt: T0 + 2 }));
      const b = await store.enqueueRequest(request({ priority: 5, submittedAt: T0 + 9 }));
      const c = await store.enqueueRequest(request({ priority: 0, submittedAt: T0 + 1 }));
      const d = await store.enqueueRequest(request({ priority: 0, submittedAt: T0 + 1 }));
      const e = await store.enqueueRequest(request({ priority: -1, submittedAt: T0 }));
      const f = await store.enqueueRequest(request({ priority: 5, submittedAt: T0 + 9 }));
      expect((await store.listQueuedRequests()).map((r) => r.id)).toEqual([b.id, f.id, c.id, d.id, a.id, e.id]);
    });

    it('leaves claimed and complete requests out of the queue', async () => {
      const waiting = await store.enqueueRequest(request());
      await started();
      const cancelled = await store.enqueueRequest(request());
      await store.cancelQueuedRequest(cancelled.id, T0 + 5);
      expect((await store.listQueuedRequests()).map((r) => r.id)).toEqual([waiting.id]);
    });

    it('cancels only queued requests', async () => {
      const req = await store.enqueueRequest(request());
      const cancelled = await store.cancelQueuedRequest(req.id, T0 + 5);
      expect(cancelled).toMatchObject({ id: req.id, state: 'complete', result: 'CANCELLED', buildId: null });
      expect(await store.cancelQueuedRequest(req.id, T0 + 6)).toBeUndefined();
      expect(await store.cancelQueuedRequest(req.id + 1000, T0 + 6)).toBeUndefined();

      const { request: claimed } = await started();
      expect(await store.cancelQueuedRequest(claimed.id, T0 + 7)).toBeUndefined();
      expect(await store.getRequest(claimed.id)).toMatchObject({ state: 'claimed' });
    });
  });

  describe('builds', () => {
    it('starts a build: numbered, buildnumber property, pending steps, request claimed', async () => {
      const req = await store.enqueueRequest(request());
      const result = await store.startBuild({
        requestId: req.id,
        builder: 'linux',
        worker: 'w1',
        properties: { branch: 'main', buildnumber: 'overwritten' },
        steps: ['checkout', 'configure', 'compile'],
        startedAt: T0 + 1,
      });
      expect(result).toBeDefined();
      const { build, steps, request: claimed } = result!;
      expect(build).toEqual({
        id: expect.any(Number),
        requestId: req.id,
        builder: 'linux',
        number: 1,
        worker: 'w1',
        state: 'running',
        result: null,
        properties: { branch: 'main', buildnumber: '1' },
        startedAt: T0 + 1,
        finishedAt: null,
        summary: null,
      });
      expect(steps.map((s) => [s.index, s.name, s.state, s.buildId])).toEqual([
        [0, 'checkout', 'pending', build.id],
        [1, 'configure', 'pending', build.id],
        [2, 'compile', 'pending', build.id],
      ]);
      expect(steps[0]).toMatchObject({ result: null, command: null, logBytes: 0, logSeq: 0, logTruncated: false });
      expect(claimed).toEqual({ ...req, state: 'claimed', buildId: build.id });
      expect(await store.getRequest(req.id)).toEqual(claimed);
      expect(await store.getBuild(build.id)).toEqual(build);
      expect(await store.getSteps(build.id)).toEqual(steps);
    });

    it('starts a build with no steps', async () => {
      const { build, steps } = await started('linux', []);
      expect(steps).toEqual([]);
      expect(await store.getSteps(build.id)).toEqual([]);
    });

    it('claims a request only once', async () => {
      const { request: claimed } = await started();
      const again = await store.startBuild({
        requestId: claimed.id,
        builder: 'linux',
        worker: 'w2',
        properties: {},
        steps: ['x'],
        startedAt: T0 + 2,
      });
      expect(again).toBeUndefined();
      expect(await store.listBuilds({ limit: 10 })).toHaveLength(1);
    });

    it('does not claim a cancelled or unknown request', async () => {
      const req = await store.enqueueRequest(request());
      await store.cancelQueuedRequest(req.id, T0 + 1);
      const input = { builder: 'linux', worker: 'w1', properties: {}, steps: ['x'], startedAt: T0 + 2 };
      expect(await store.startBuild({ ...input, requestId: req.id })).toBeUndefined();
      expect(await store.startBuild({ ...input, requestId: req.id + 1000 })).toBeUndefined();
    });

    it('lets exactly one of two concurrent claims of a request win', async () => {
      const req = await store.enqueueRequest(request());
      const claim = (worker: string) =>
        store.startBuild({ requestId: req.id, builder: 'linux', worker, properties: {}, steps: ['a', 'b'], startedAt: T0 + 1 });
      const results = await Promise.all([claim('w1'), claim('w2')]);
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.listBuilds({ limit: 10 })).toHaveLength(1);
      expect(await store.getRequest(req.id)).toMatchObject({ state: 'claimed', buildId: winners[0]!.build.id });
      expect(await store.getSteps(winners[0]!.build.id)).toHaveLength(2);
    });

    it('numbers builds per builder, also when started concurrently', async () => {
      const requests = await Promise.all(
        ['linux', 'linux', 'mac', 'linux', 'mac', 'linux', 'linux', 'linux'].map((builder, i) =>
          store.enqueueRequest(request({ builder, submittedAt: T0 + i })),
        ),
      );
      const results = await Promise.all(
        requests.map((req) =>
          store.startBuild({ requestId: req.id, builder: req.builder, worker: 'w1', properties: {}, steps: ['s'], startedAt: T0 + 100 }),
        ),
      );
      const numbers = (builder: string) =>
        results
          .filter((r) => r!.build.builder === builder)
          .map((r) => r!.build.number)
          .sort((a, b) => a - b);
      expect(numbers('linux')).toEqual([1, 2, 3, 4, 5, 6]);
      expect(numbers('mac')).toEqual([1, 2]);
      for (const r of results) expect(r!.build.properties.buildnumber).toBe(String(r!.build.number));
      const mac2 = results.find((r) => r!.build.builder === 'mac' && r!.build.number === 2)!.build;
      expect(await store.getBuildByNumber('mac', 2)).toEqual(mac2);
      expect(await store.getBuildByNumber('mac', 3)).toBeUndefined();
      expect(await store.getBuildByNumber('nope', 1)).toBeUndefined();
    });

    it('finishes a build and completes its request', async () => {
      const { build, request: req } = await started();
      const done = await store.finishBuild(build.id, { result: 'FAILURE', summary: 'compile failed', finishedAt: T0 + 50, requeue: false });
      expect(done.build).toEqual({ ...build, state: 'finished', result: 'FAILURE', summary: 'compile failed', finishedAt: T0 + 50 });
      expect(done.request).toEqual({ ...req, state: 'complete', result: 'FAILURE' });
      expect(await store.getBuild(build.id)).toEqual(done.build);
      expect(await store.listQueuedRequests()).toEqual([]);
    });

    it('requeues the request of a RETRY build, and the next build gets the next number', async () => {
      const { build, request: req } = await started();
      const done = await store.finishBuild(build.id, { result: 'RETRY', summary: 'worker lost', finishedAt: T0 + 50, requeue: true });
      expect(done.build).toMatchObject({ state: 'finished', result: 'RETRY', summary: 'worker lost' });
      expect(done.request).toEqual({ ...req, state: 'queued', buildId: null, result: null });
      expect(await store.listQueuedRequests()).toEqual([done.request]);

      const again = await store.startBuild({ requestId: req.id, builder: 'linux', worker: 'w2', properties: {}, steps: ['s'], startedAt: T0 + 60 });
      expect(again?.build).toMatchObject({ number: 2, requestId: req.id, worker: 'w2' });
      expect(again?.request).toMatchObject({ state: 'claimed', buildId: again?.build.id });
    });

    it('merges properties into a build', async () => {
      const { build } = await started();
      const updated = await store.updateBuildProperties(build.id, { got_revision: 'abc', branch: 'dev' });
      expect(updated).toEqual({ ...build, properties: { branch: 'dev', buildnumber: '1', got_revision: 'abc' } });
      expect(await store.getBuild(build.id)).toEqual(updated);
      await Promise.all([
        store.updateBuildProperties(build.id, { a: '1' }),
        store.updateBuildProperties(build.id, { b: '2' }),
      ]);
      expect((await store.getBuild(build.id))!.properties).toMatchObject({ got_revision: 'abc', a: '1', b: '2' });
      await expect(store.updateBuildProperties(build.id + 1000, {})).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
    });

    it('refuses to finish a build twice or an unknown build', async () => {
      const { build } = await started();
      const end = { result: 'SUCCESS' as const, summary: null, finishedAt: T0 + 5, requeue: false };
      await store.finishBuild(build.id, end);
      await expect(store.finishBuild(build.id, end)).rejects.toMatchObject({ code: 'SHEPHERD_E_CONFLICT' });
      await expect(store.finishBuild(build.id + 1000, end)).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
      await expect(store.finishBuild(build.id + 1000, end)).rejects.toBeInstanceOf(ShepherdError);
    });

    it('lists builds newest first, filtered and keyset-paged', async () => {
      const b1 = await finished('linux', 'SUCCESS', 'w1');
      const b2 = await finished('mac', 'FAILURE', 'w2');
      const b3 = await finished('linux', 'FAILURE', 'w2');
      const { build: b4 } = await started('linux', ['s'], 'w1');
      const b5 = await finished('mac', 'SUCCESS', 'w1');
      const ids = (builds: { id: number }[]) => builds.map((b) => b.id);

      expect(ids(await store.listBuilds({ limit: 100 }))).toEqual([b5.id, b4.id, b3.id, b2.id, b1.id]);
      expect(ids(await store.listBuilds({ limit: 2 }))).toEqual([b5.id, b4.id]);
      expect(ids(await store.listBuilds({ limit: 2, beforeId: b4.id }))).toEqual([b3.id, b2.id]);
      expect(ids(await store.listBuilds({ limit: 2, beforeId: b2.id }))).toEqual([b1.id]);
      expect(ids(await store.listBuilds({ limit: 2, beforeId: b1.id }))).toEqual([]);
      expect(ids(await store.listBuilds({ limit: 100, builder: 'linux' }))).toEqual([b4.id, b3.id, b1.id]);
      expect(ids(await store.listBuilds({ limit: 100, result: 'FAILURE' }))).toEqual([b3.id, b2.id]);
      expect(ids(await store.listBuilds({ limit: 100, state: 'running' }))).toEqual([b4.id]);
      expect(ids(await store.listBuilds({ limit: 100, state: 'finished' }))).toEqual([b5.id, b3.id, b2.id, b1.id]);
      expect(ids(await store.listBuilds({ limit: 100, worker: 'w2' }))).toEqual([b3.id, b2.id]);
      expect(ids(await store.listBuilds({ limit: 100, builder: 'linux', worker: 'w1', beforeId: b4.id }))).toEqual([b1.id]);
      expect(ids(await store.listBuilds({ limit: 100, builder: 'linux', result: 'SUCCESS', state: 'finished' }))).toEqual([b1.id]);
      expect(await store.listBuilds({ limit: 100, builder: 'windows' })).toEqual([]);
      expect((await store.listBuilds({ limit: 1 }))[0]).toEqual(b5);
    });

    it('returns the latest finished build of each builder', async () => {
      expect(await store.lastBuildPerBuilder()).toEqual([]);
      await finished('linux', 'SUCCESS');
      const linux = await finished('linux', 'FAILURE');
      await started('linux'); // running: not the last finished
      await started('windows'); // only running: no entry
      const mac = await finished('mac', 'SUCCESS');
      const arm = await finished('arm', 'SUCCESS');
      const last = await store.lastBuildPerBuilder();
      expect(last.map((b) => b.builder).sort()).toEqual(['arm', 'linux', 'mac']);
      const byBuilder = new Map(last.map((b) => [b.builder, b]));
      expect(byBuilder.get('linux')).toEqual(linux);
      expect(byBuilder.get('mac')).toEqual(mac);
      expect(byBuilder.get('arm')).toEqual(arm);
    });
  });

  describe('steps', () => {
    it('runs a step from pending to running to finished', async () => {
      const { steps } = await started('linux', ['checkout', 'compile']);
      const [checkout, compile] = steps as [(typeof steps)[0], (typeof steps)[0]];

      const running = await store.markStepStarted(checkout.id, { command: ['git', 'clone', 'x y'], workdir: 'build', startedAt: T0 + 2 });
      expect(running).toEqual({ ...checkout, state: 'running', command: ['git', 'clone', 'x y'], workdir: 'build', startedAt: T0 + 2 });
      expect(await store.getStep(checkout.id)).toEqual(running);

      const done = await store.finishStep(checkout.id, { result: 'FAILURE', exitCode: 2, signal: null, summary: 'exit 2', finishedAt: T0 + 9 });
      expect(done).toEqual({ ...running, state: 'finished', result: 'FAILURE', exitCode: 2, summary: 'exit 2', finishedAt: T0 + 9 });

      const shell = await store.markStepStarted(compile.id, { command: 'make -j4 && make check', workdir: '.', startedAt: T0 + 10 });
      expect(shell.command).toBe('make -j4 && make check');
      const killed = await store.finishStep(compile.id, { result: 'EXCEPTION', exitCode: null, signal: 'SIGKILL', summary: 'timeout', finishedAt: T0 + 20 });
      expect(killed).toMatchObject({ state: 'finished', exitCode: null, signal: 'SIGKILL', result: 'EXCEPTION' });

      expect(await store.getSteps(checkout.buildId)).toEqual([done, killed]);
    });

    it('finishes a step that never started (SKIPPED)', async () => {
      const { steps } = await started('linux', ['a']);
      const skipped = await store.finishStep(steps[0]!.id, { result: 'SKIPPED', exitCode: null, signal: null, summary: null, finishedAt: T0 + 3 });
      expect(skipped).toMatchObject({ state: 'finished', result: 'SKIPPED', startedAt: null, command: null, finishedAt: T0 + 3 });
    });

    it('reports unknown steps', async () => {
      expect(await store.getStep(12345)).toBeUndefined();
      expect(await store.getSteps(12345)).toEqual([]);
      await expect(store.markStepStarted(12345, { command: 'x', workdir: '.', startedAt: T0 })).rejects.toMatchObject({
        code: 'SHEPHERD_E_NOT_FOUND',
      });
      await expect(
        store.finishStep(12345, { result: 'SUCCESS', exitCode: 0, signal: null, summary: null, finishedAt: T0 }),
      ).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
    });
  });

  describe('workers', () => {
    it('records connections, reconnections and disconnections', async () => {
      expect(await store.listWorkers()).toEqual([]);
      await store.recordWorkerConnected('w2', { os: 'linux', cores: 8 }, T0);
      await store.recordWorkerConnected('w1', { os: 'macos' }, T0 + 1);
      expect(await store.listWorkers()).toEqual([
        { name: 'w1', info: { os: 'macos' }, firstSeen: T0 + 1, lastSeen: T0 + 1, connectedAt: T0 + 1 },
        { name: 'w2', info: { os: 'linux', cores: 8 }, firstSeen: T0, lastSeen: T0, connectedAt: T0 },
      ]);

      await store.recordWorkerDisconnected('w2', T0 + 10);
      await store.recordWorkerDisconnected('never-seen', T0 + 10);
      expect((await store.listWorkers())[1]).toEqual({
        name: 'w2',
        info: { os: 'linux', cores: 8 },
        firstSeen: T0,
        lastSeen: T0 + 10,
        connectedAt: null,
      });

      await store.recordWorkerConnected('w2', { os: 'linux', cores: 16 }, T0 + 20);
      expect((await store.listWorkers())[1]).toEqual({
        name: 'w2',
        info: { os: 'linux', cores: 16 },
        firstSeen: T0,
        lastSeen: T0 + 20,
        connectedAt: T0 + 20,
      });
    });

    it('resets every connection at master start-up', async () => {
      await store.recordWorkerConnected('w1', { os: 'linux' }, T0);
      await store.recordWorkerConnected('w2', { os: 'linux' }, T0 + 1);
      await store.recordWorkerDisconnected('w2', T0 + 2);
      await store.resetWorkerConnections(T0 + 100);
      expect(await store.listWorkers()).toEqual([
        { name: 'w1', info: { os: 'linux' }, firstSeen: T0, lastSeen: T0 + 100, connectedAt: null },
        { name: 'w2', info: { os: 'linux' }, firstSeen: T0 + 1, lastSeen: T0 + 2, connectedAt: null },
      ]);
    });
  });

  it('returns ids and times as numbers, not strings', async () => {
    const { build, steps, request: req } = await started();
    await store.markStepStarted(steps[0]!.id, { command: 'true', workdir: '.', startedAt: T0 + 2 });
    await store.appendLog(steps[0]!.id, Buffer.from('hello'), 1);
    await store.finishStep(steps[0]!.id, { result: 'SUCCESS', exitCode: 0, signal: null, summary: null, finishedAt: T0 + 3 });
    const done = await store.finishBuild(build.id, { result: 'SUCCESS', summary: null, finishedAt: T0 + 4, requeue: false });
    await store.recordWorkerConnected('w1', {}, T0 + 5);

    const step = (await store.getStep(steps[0]!.id))!;
    const [worker] = await store.listWorkers();
    const numbers = {
      requestId: req.id,
      submittedAt: req.submittedAt,
      priority: req.priority,
      requestBuildId: done.request.buildId,
      buildId: done.build.id,
      buildRequestId: done.build.requestId,
      number: done.build.number,
      startedAt: done.build.startedAt,
      finishedAt: done.build.finishedAt,
      stepId: step.id,
      stepBuildId: step.buildId,
      stepIndex: step.index,
      stepStartedAt: step.startedAt,
      stepFinishedAt: step.finishedAt,
      exitCode: step.exitCode,
      logBytes: step.logBytes,
      logSeq: step.logSeq,
      firstSeen: worker!.firstSeen,
      lastSeen: worker!.lastSeen,
      connectedAt: worker!.connectedAt,
    };
    for (const [field, value] of Object.entries(numbers)) {
      expect(typeof value, field).toBe('number');
    }
    expect(numbers).toMatchObject({ submittedAt: T0, finishedAt: T0 + 4, logBytes: 5, logSeq: 1, connectedAt: T0 + 5 });
    expect(typeof step.logTruncated).toBe('boolean');
  });
});
