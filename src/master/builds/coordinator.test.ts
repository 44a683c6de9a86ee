/**
 * The coordinator against a real store (SQLite and PostgreSQL) with a
 * manual clock: timeouts such as worker_lost_after are tested without
 * sleeping. The worker side is the shared `TestWorker` (our own
 * `ConnectedWorker` interface); the real agent is exercised end to end in test/.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { HeldStep, StepOutcome } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import { MasterEventBus, type MasterEvents } from '../events.js';
import type { Store } from '../store/store.js';
import { TestWorker } from '../workers/test-worker.js';
import { Coordinator } from './coordinator.js';

const ok = (o: Partial<StepOutcome> = {}): StepOutcome => ({ exit_code: 0, signal: null, duration_ms: 5, ended_by: null, spawn_error: null, ...o });

const CONFIG = `
master: { worker_lost_after: 5m }
workers:
  - { name: w1, secret_env: S1, dimensions: { os: linux } }
  - { name: w2, secret_env: S2, dimensions: { os: linux } }
builders:
  - name: b
    workers: { os: linux }
    properties: { flags: --fast }
    steps:
      - { name: one, run: "echo \${{ props.flags }} \${{ props.buildnumber }}" }
      - { name: two, run: [make, test], env: { V: "\${{ props.worker }}" } }
      - { name: three, run: "true", halt_on_failure: false }
      - { name: clean, run: "make clean", always_run: true }
  - name: broken
    workers: [w1]
    steps:
      - { name: bad, run: "echo \${{ props.nope }}" }
      - { name: after, run: "true", always_run: true }
  - name: tiny-log
    workers: [w1]
    steps:
      - { name: chatty, run: "yes", max_log_size: 10B }
  - name: c
    workers: { os: linux }
    steps:
      - { name: only, run: "true" }
`;

describe.each(DATABASES)('coordinator (%s)', (kind) => {
  let store: Store;
  let clock: ManualClock;
  let events: MasterEventBus;
  let coordinator: Coordinator;
  const config = parseConfig(parseYaml(CONFIG), 'test.yml', '/tmp');

  function makeCoordinator(): Coordinator {
    return new Coordinator({ config, store, events, clock, logger: pino({ level: 'silent' }), apiToken: 't' });
  }

  beforeEach(async () => {
    store = await openTestStore(kind);
    clock = new ManualClock();
    events = new MasterEventBus((_, error) => { throw error; });
    coordinator = makeCoordinator();
    await coordinator.recover();
  });
  afterEach(async () => {
    await coordinator.stop();
    await store.close();
  });

  const next = <E extends keyof MasterEvents>(event: E, match?: (p: MasterEvents[E]) => boolean) => events.once(event, match);

  async function startedStep(worker: TestWorker, count: number) {
    while (worker.started.length < count) await next('step:started');
    return worker.started[count - 1]!;
  }

  async function finish(worker: TestWorker, stepId: number, outcome = ok(), lastSeq = 0) {
    const done = next('step:finished', (p) => p.step.id === stepId);
    coordinator.stepFinished(worker, stepId, lastSeq, outcome, {});
    return (await done).step;
  }

  it('runs the steps in order with interpolated commands, storing output and acking it', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const buildDone = next('build:finished');
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });

    const one = await startedStep(w1, 1);
    expect(one.command).toMatchObject({ run: 'echo --fast 1', builder_dir: 'b', workdir: '.', timeout_ms: 1_200_000 });
    coordinator.output(w1, one.stepId, 1, Buffer.from('--fast 1\n'));
    coordinator.output(w1, one.stepId, 1, Buffer.from('--fast 1\n')); // a resend: dropped
    await finish(w1, one.stepId, ok(), 1);
    expect(w1.acks.get(one.stepId)).toBe(1);
    expect(w1.released).toContain(one.stepId);

    const two = await startedStep(w1, 2);
    expect(two.command).toMatchObject({ run: ['make', 'test'], env: { V: 'w1' } });
    await finish(w1, two.stepId);
    await finish(w1, (await startedStep(w1, 3)).stepId);
    await finish(w1, (await startedStep(w1, 4)).stepId);

    const { build } = await buildDone;
    expect(build.result).toBe('SUCCESS');
    const chunks: Buffer[] = [];
    for await (const c of store.readLog(one.stepId)) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('--fast 1\n');
  });

  it('a failing step halts the build; always_run steps still run; the rest are SKIPPED', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const buildDone = next('build:finished');
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    await finish(w1, (await startedStep(w1, 1)).stepId, ok({ exit_code: 2 }));
    const clean = await startedStep(w1, 2);
    expect(clean.command.run).toBe('make clean');
    await finish(w1, clean.stepId);
    const { build } = await buildDone;
    expect(build.result).toBe('FAILURE');
    const steps = await store.getSteps(build.id);
    expect(steps.map((s) => [s.name, s.result, s.summary])).toEqual([
      ['one', 'FAILURE', 'exit code 2'],
      ['two', 'SKIPPED', 'an earlier step failed'],
      ['three', 'SKIPPED', 'an earlier step failed'],
      ['clean', 'SUCCESS', null],
    ]);
  });

  it('an unknown property makes the step EXCEPTION with the reason in its log', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const buildDone = next('build:finished');
    await coordinator.force({ builder: 'broken', properties: {}, reason: 't', submittedBy: null });
    await finish(w1, (await startedStep(w1, 1)).stepId);
    const { build } = await buildDone;
    expect(build.result).toBe('EXCEPTION');
    const [bad] = await store.getSteps(build.id);
    expect(bad!.summary).toContain('unknown property "nope"');
    const chunks: Buffer[] = [];
    for await (const c of store.readLog(bad!.id)) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toContain('[shepherd] step bad: unknown property "nope"');
  });

  it('a worker away longer than worker_lost_after: the build ends RETRY and runs on another worker', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const first = await startedStep(w1, 1);
    coordinator.detach(w1, 'gone');

    clock.advance(5 * 60_000 - 1);
    expect((await store.getBuild(first.buildId))!.state).toBe('running');
    const retried = next('build:finished');
    clock.advance(1);
    const { build, requeued } = await retried;
    expect(build.result).toBe('RETRY');
    expect(requeued).toBe(true);
    expect((await store.getSteps(build.id))[0]!.summary).toMatch(/worker w1 lost/);

    const w2 = new TestWorker('w2');
    await coordinator.attach(w2, []);
    const again = await startedStep(w2, 1);
    expect(again.buildId).not.toBe(first.buildId);
    expect((await store.getBuild(again.buildId))!.number).toBe(2);

    // w1 comes back still holding the old step: it is not resumed, so the agent kills it.
    const w1again = new TestWorker('w1');
    expect(await coordinator.attach(w1again, [{ step_id: first.stepId, last_seq: 0 }])).toEqual([]);
  });

  it('a worker back in time holding its step resumes after the last stored output', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const one = await startedStep(w1, 1);
    coordinator.output(w1, one.stepId, 1, Buffer.from('a\n'));
    coordinator.output(w1, one.stepId, 2, Buffer.from('b\n'));
    coordinator.detach(w1, 'network');
    clock.advance(60_000);

    const back = new TestWorker('w1');
    const held: HeldStep[] = [{ step_id: one.stepId, last_seq: 3 }];
    expect(await coordinator.attach(back, held)).toEqual([{ stepId: one.stepId, ackedSeq: 2 }]);
    coordinator.output(back, one.stepId, 2, Buffer.from('b\n')); // duplicate, dropped
    coordinator.output(back, one.stepId, 3, Buffer.from('c\n'));
    await finish(back, one.stepId, ok(), 3);
    expect(await coordinator.logLength(one.stepId)).toBe(6);
    const chunks: Buffer[] = [];
    for await (const c of store.readLog(one.stepId)) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('a\nb\nc\n');
    expect((await startedStep(back, 1)).stepId).not.toBe(one.stepId);
  });

  it('a worker back without its step (the agent restarted): RETRY at once', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const one = await startedStep(w1, 1);
    coordinator.detach(w1, 'crash');
    const retried = next('build:finished');
    await coordinator.attach(new TestWorker('w1'), []);
    const { build } = await retried;
    expect(build.id).toBe(one.buildId);
    expect(build.result).toBe('RETRY');
  });

  it('cancel kills the running step, runs always_run steps, and ends CANCELLED', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const buildDone = next('build:finished');
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const one = await startedStep(w1, 1);
    await coordinator.cancelBuild(one.buildId, 'no longer needed');
    expect(w1.cancelled).toEqual([one.stepId]);
    await finish(w1, one.stepId, ok({ exit_code: null, signal: 'SIGTERM', ended_by: 'cancel' }));
    const clean = await startedStep(w1, 2);
    expect(clean.command.run).toBe('make clean');
    await finish(w1, clean.stepId);
    const { build } = await buildDone;
    expect(build.result).toBe('CANCELLED');
    await expect(coordinator.cancelBuild(build.id, 'again')).rejects.toMatchObject({ code: 'SHEPHERD_E_CONFLICT' });
    await expect(coordinator.cancelBuild(99_999, 'x')).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
  });

  describe('on-demand instances', () => {
    const credential = { tokenHash: null, expiresAt: 0, sessionHash: null };
    const view = (name: string) => () => ({
      id: 1, name, pool: 'cloud', provider: 'local', providerId: null, state: 'connected' as const,
      startedAt: 0, connectedAt: 0, stoppedAt: null, builds: 0, reason: null, cost: 0,
    });
    const instance = async (name: string) => {
      coordinator.addLatentWorker(name, { os: 'linux' }, credential, view(name));
      const worker = new TestWorker(name);
      await coordinator.attach(worker, []);
      return worker;
    };

    it('one that vanishes mid-build (its agent died, its machine is gone): the build ends RETRY at once and runs elsewhere', async () => {
      const vm = await instance('cloud-1');
      await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
      const first = await startedStep(vm, 1);
      coordinator.detach(vm, 'connection reset');

      const retried = next('build:finished');
      coordinator.removeLatentWorker('cloud-1', 'instance ended');
      // Not left waiting worker_lost_after for a worker that no longer exists.
      const { build, requeued } = await retried;
      expect(build.result).toBe('RETRY');
      expect(requeued).toBe(true);
      expect((await store.getSteps(build.id))[0]!.summary).toBe('on-demand instance cloud-1 is gone: instance ended');
      expect((await coordinator.workers()).map((w) => w.name)).not.toContain('cloud-1');

      const w2 = new TestWorker('w2');
      await coordinator.attach(w2, []);
      expect((await startedStep(w2, 1)).buildId).not.toBe(first.buildId);

      // Removed while still connected: the disconnect is announced like any other.
      const vm2 = await instance('cloud-2');
      const gone = next('worker:disconnected', (p) => p.worker === 'cloud-2');
      coordinator.removeLatentWorker('cloud-2', 'on-demand instance stopped');
      expect(await gone).toEqual({ worker: 'cloud-2', reason: 'on-demand instance stopped' });
      expect(vm2.closedWith).toBe('on-demand instance stopped');
    });

    it('one drained while a dispatch pass is under way is given no build: the request waits for the next pass', async () => {
      const vms = new Map([['cloud-1', await instance('cloud-1')], ['cloud-2', await instance('cloud-2')]]);
      let drained: string | null = null;
      const off = events.on('build:started', ({ build }) => {
        // One pass may have assigned both requests before its first start awaited
        // the store: the pool drains the other instance now, to stop it.
        if (drained !== null) return;
        drained = build.worker === 'cloud-1' ? 'cloud-2' : 'cloud-1';
        expect(coordinator.drainLatentWorker(drained)).toBe(true);
      });
      const firstStarted = next('build:started');
      await Promise.all([
        coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null }),
        coordinator.force({ builder: 'c', properties: {}, reason: 't', submittedBy: null }),
      ]);
      const { build: first } = await firstStarted;
      // Nothing more starts: waiting for something not to happen takes a wait.
      await new Promise((resolve) => setTimeout(resolve, 100));
      off();
      expect(vms.get(drained!)!.started).toEqual([]);
      expect(await store.listBuilds({ state: 'running', limit: 10 })).toHaveLength(1);
      const waiting = coordinator.unservedRequests();
      expect(waiting.map((r) => r.builder)).toEqual([first.builder === 'b' ? 'c' : 'b']);

      // Still queued, not lost: it starts once a worker is free.
      const w1 = new TestWorker('w1');
      await coordinator.attach(w1, []);
      expect((await startedStep(w1, 1)).buildId).not.toBe(first.id);
    });
  });

  it('a restarted master resumes a running build without rerunning finished steps', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    await finish(w1, (await startedStep(w1, 1)).stepId);
    const two = await startedStep(w1, 2);
    coordinator.output(w1, two.stepId, 1, Buffer.from('x'));
    await coordinator.stop(); // stands in for the crash: the stored state is all that survives

    const restartedEvents = new MasterEventBus();
    events = restartedEvents;
    coordinator = makeCoordinator();
    await coordinator.recover();
    const finishedAfterRestart = restartedEvents.once('build:finished');
    const back = new TestWorker('w1');
    expect(await coordinator.attach(back, [{ step_id: two.stepId, last_seq: 2 }])).toEqual([{ stepId: two.stepId, ackedSeq: 1 }]);
    coordinator.output(back, two.stepId, 2, Buffer.from('y'));
    coordinator.stepFinished(back, two.stepId, 2, ok(), {});
    for (let i = 0; i < 2; i++) {
      while (back.started.length < i + 1) await restartedEvents.once('step:started');
      coordinator.stepFinished(back, back.started[i]!.stepId, 0, ok(), {});
    }
    const { build } = await finishedAfterRestart;
    expect(build.result).toBe('SUCCESS');
    expect(back.started.map((s) => s.command.run)).toEqual(['true', 'make clean']);
    const chunks: Buffer[] = [];
    for await (const c of store.readLog(two.stepId)) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('xy');
  });

  it('a restarted master whose config lost the builder ends its running build EXCEPTION, step included', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    await startedStep(w1, 1);
    await coordinator.stop();

    const withoutB = parseConfig(parseYaml(CONFIG.replace(/  - name: b\n[\s\S]*?(?=  - name: broken)/, '')), 'test.yml', '/tmp');
    expect(withoutB.builders.map((b) => b.name)).toEqual(['broken', 'tiny-log', 'c']);
    events = new MasterEventBus();
    const finished = events.once('build:finished');
    coordinator = new Coordinator({ config: withoutB, store, events, clock, logger: pino({ level: 'silent' }), apiToken: 't' });
    await coordinator.recover();
    const { build } = await finished;
    expect(build).toMatchObject({ result: 'EXCEPTION', summary: 'builder b is no longer configured' });
    const steps = await store.getSteps(build.id);
    expect(steps.map((s) => s.result)).toEqual(['EXCEPTION', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
    expect(steps.every((s) => s.state === 'finished')).toBe(true);
  });

  it('truncates a log at its limit behind a visible marker', async () => {
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await coordinator.force({ builder: 'tiny-log', properties: {}, reason: 't', submittedBy: null });
    const step = await startedStep(w1, 1);
    coordinator.output(w1, step.stepId, 1, Buffer.from('y\ny\ny\ny\n'));
    coordinator.output(w1, step.stepId, 2, Buffer.from('y\ny\ny\ny\n'));
    coordinator.output(w1, step.stepId, 3, Buffer.from('y\ny\ny\ny\n'));
    const stored = await finish(w1, step.stepId, ok(), 3);
    expect(stored.logTruncated).toBe(true);
    expect(w1.acks.get(step.stepId)).toBe(3);
    const chunks: Buffer[] = [];
    for await (const c of store.readLog(step.stepId)) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('y\ny\ny\ny\ny\n\n[shepherd] log truncated at 10 bytes: further output was discarded\n');
  });

  it("shows each worker's uptime over 7 and 30 days and the builds it ran", async () => {
    const D = 86_400_000;
    const now = clock.now();
    await store.recordWorkerConnected('w2', {}, now - 10 * D);
    await store.recordWorkerDisconnected('w2', now - 7 * D);
    await store.recordWorkerConnected('w2', {}, now - D);
    await store.recordWorkerDisconnected('w2', now - D / 2);
    for (const [i, worker] of ['w1', 'w1', 'w2'].entries()) {
      const req = await store.enqueueRequest({ builder: 'b', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: now - D });
      const started = await store.startBuild({ requestId: req.id, builder: 'b', worker, properties: {}, steps: ['s'], startedAt: now - D + i });
      await store.finishBuild(started!.build.id, { result: 'SUCCESS', summary: null, finishedAt: now - D + i + 1, requeue: false });
    }
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    clock.advance(D);
    const views = new Map((await coordinator.workers()).map((w) => [w.name, w]));
    // w1 connected a day ago and still is; w2 was connected 3 of the last 30 days and half of one of the last 7.
    expect(views.get('w1')).toMatchObject({ buildsRun: 2, uptime: { d7: 1 / 7, d30: 1 / 30 } });
    expect(views.get('w2')).toMatchObject({ buildsRun: 1 });
    expect(views.get('w2')!.uptime.d7).toBeCloseTo(0.5 / 7, 12);
    expect(views.get('w2')!.uptime.d30).toBeCloseTo(3.5 / 30, 12);
  });

  it('refuses to force an unknown builder and cancels queued requests', async () => {
    await expect(coordinator.force({ builder: 'nope', properties: {}, reason: 't', submittedBy: null })).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
    const request = await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    expect((await coordinator.cancelRequest(request.id)).result).toBe('CANCELLED');
    await expect(coordinator.cancelRequest(request.id)).rejects.toMatchObject({ code: 'SHEPHERD_E_CONFLICT' });
  });
});
