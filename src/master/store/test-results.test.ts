import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { NewTestResult, Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('test results on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  /** Starts a build of `builder` on `worker` at `revision`; its one step's id and the build id. */
  async function build(builder: string, worker: string, at = T0): Promise<{ buildId: number; stepId: number }> {
    const request = await store.enqueueRequest({ builder, priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: at });
    const started = await store.startBuild({ requestId: request.id, builder, worker, properties: {}, steps: ['test'], startedAt: at });
    if (!started) throw new Error('not claimed');
    return { buildId: started.build.id, stepId: started.steps[0]!.id };
  }

  function result(ids: { buildId: number; stepId: number }, name: string, outcome: NewTestResult['result'], more: Partial<NewTestResult> = {}): NewTestResult {
    return {
      ...ids,
      builder: 'linux',
      worker: 'w1',
      platform: 'linux-x86_64',
      revision: 'abc123',
      name,
      suite: 'suite',
      result: outcome,
      durationMs: 12,
      message: outcome === 'failed' ? `${name} failed` : null,
      flaky: false,
      rerun: false,
      quarantined: false,
      at: T0,
      ...more,
    };
  }

  it('stores a step\'s results and lists a build\'s tests failures first, with counts leaving re-runs out', async () => {
    const ids = await build('linux', 'w1');
    const stored = await store.addTestResults([
      result(ids, 'test_b', 'passed'),
      result(ids, 'test_a', 'passed'),
      result(ids, 'test_c', 'skipped', { message: 'no network', durationMs: null }),
      result(ids, 'test_e', 'error', { quarantined: true }),
      result(ids, 'test_d', 'failed'),
      result(ids, 'test_d', 'passed', { rerun: true, flaky: true }),
    ]);
    expect(stored).toHaveLength(6);
    const page = await store.listBuildTests(ids.buildId, { offset: 0, limit: 10 });
    expect(page.counts).toEqual({ failed: 1, error: 1, skipped: 1, passed: 2 });
    expect(page).toMatchObject({ total: 5, flaky: 0, quarantined: 1 });
    expect(page.tests.map((t) => [t.name, t.result, t.rerun])).toEqual([
      ['test_d', 'failed', false],
      ['test_e', 'error', false],
      ['test_c', 'skipped', false],
      ['test_a', 'passed', false],
      ['test_b', 'passed', false],
      ['test_d', 'passed', true],
    ]);
    expect(page.tests[0]).toEqual({ ...result(ids, 'test_d', 'failed'), id: stored[4] });
    expect(page.tests[2]).toMatchObject({ durationMs: null, message: 'no network' });

    const second = await store.listBuildTests(ids.buildId, { offset: 2, limit: 2 });
    expect(second.tests.map((t) => t.name)).toEqual(['test_c', 'test_a']);
    const failures = await store.listBuildTests(ids.buildId, { offset: 0, limit: 10, failuresOnly: true });
    expect(failures.tests.map((t) => t.name)).toEqual(['test_d', 'test_e']);
    expect(await store.listBuildTests(ids.buildId + 100, { offset: 0, limit: 10 })).toEqual({
      counts: { failed: 0, error: 0, skipped: 0, passed: 0 },
      total: 0,
      flaky: 0,
      quarantined: 0,
      tests: [],
    });
  });

  it('stores 5,000 results of one step and reads them back', async () => {
    const ids = await build('linux', 'w1');
    const many = Array.from({ length: 5000 }, (_, i) => result(ids, `test_${String(i).padStart(4, '0')}`, i % 1000 === 7 ? 'failed' : 'passed'));
    const stored = await store.addTestResults(many);
    expect(new Set(stored).size).toBe(5000);
    const page = await store.listBuildTests(ids.buildId, { offset: 0, limit: 3 });
    expect(page.counts).toEqual({ failed: 5, error: 0, skipped: 0, passed: 4995 });
    expect(page.tests.map((t) => t.name)).toEqual(['test_0007', 'test_1007', 'test_2007']);
  });

  it("answers a test's history newest first, by builder, paged; and its outcomes at a revision", async () => {
    const first = await build('linux', 'w1', T0);
    const second = await build('s390x', 'z1', T0 + 1);
    const third = await build('linux', 'w2', T0 + 2);
    await store.addTestResults([result(first, 'test_os', 'failed'), result(first, 'test_sys', 'passed')]);
    await store.addTestResults([result(second, 'test_os', 'failed', { builder: 's390x', worker: 'z1', platform: 'linux-s390x' })]);
    await store.addTestResults([result(third, 'test_os', 'passed', { worker: 'w2', revision: 'def456' })]);

    const history = await store.testHistory('test_os', { limit: 10 });
    expect(history.map((h) => [h.buildId, h.builder, h.worker, h.revision, h.result])).toEqual([
      [third.buildId, 'linux', 'w2', 'def456', 'passed'],
      [second.buildId, 's390x', 'z1', 'abc123', 'failed'],
      [first.buildId, 'linux', 'w1', 'abc123', 'failed'],
    ]);
    expect((await store.testHistory('test_os', { builder: 'linux', limit: 10 })).map((h) => h.buildId)).toEqual([third.buildId, first.buildId]);
    expect((await store.testHistory('test_os', { limit: 1, beforeId: history[0]!.id })).map((h) => h.buildId)).toEqual([second.buildId]);
    expect(await store.testHistory('test_nothing', { limit: 10 })).toEqual([]);

    const atAbc = await store.testOutcomesAtRevision('abc123', { names: ['test_os', 'test_sys'] });
    expect(atAbc.map((r) => [r.name, r.worker, r.result])).toEqual([
      ['test_os', 'w1', 'failed'],
      ['test_sys', 'w1', 'passed'],
      ['test_os', 'z1', 'failed'],
    ]);
    expect(atAbc[0]).not.toHaveProperty('message');
    expect((await store.testOutcomesAtRevision('abc123', { failuresOnly: true })).map((r) => r.worker)).toEqual(['w1', 'z1']);
    expect(await store.testOutcomesAtRevision('abc123', { names: [] })).toEqual([]);

    await store.markTestsFlaky([history[1]!.id, history[2]!.id]);
    expect((await store.testHistory('test_os', { limit: 10 })).map((h) => h.flaky)).toEqual([false, true, true]);
    expect((await store.listBuildTests(first.buildId, { offset: 0, limit: 10 })).flaky).toBe(1);
  });

  it('adds, lists and removes quarantine entries', async () => {
    const a = await store.addQuarantine({ test: 'test_ssl.*', builders: null, reason: 'certs expire', addedBy: 'ada', addedAt: T0 });
    const b = await store.addQuarantine({ test: 'test_os', builders: ['s390x'], reason: 'bpo-1234', addedBy: 'api', addedAt: T0 + 1 });
    expect(await store.listQuarantine()).toEqual([
      { id: a.id, test: 'test_ssl.*', builders: null, reason: 'certs expire', addedBy: 'ada', addedAt: T0 },
      { id: b.id, test: 'test_os', builders: ['s390x'], reason: 'bpo-1234', addedBy: 'api', addedAt: T0 + 1 },
    ]);
    expect(await store.removeQuarantine(a.id)).toBe(true);
    expect(await store.removeQuarantine(a.id)).toBe(false);
    expect((await store.listQuarantine()).map((q) => q.id)).toEqual([b.id]);
  });
});
