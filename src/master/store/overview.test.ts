import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Change, Result } from '../domain.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('overview queries on %s', (kind) => {
  let store: Store;
  let clock: number;
  let patchId: number;

  beforeEach(async () => {
    store = await openTestStore(kind);
    clock = T0;
    patchId = (
      await store.addPatch({ source: 's', baseRevision: '', branch: 'main', author: 'T <t@example.org>', comment: '', createdAt: T0, data: Buffer.from('d') })
    ).id;
  });
  afterEach(async () => {
    await store.close();
  });

  /** Runs one build of `builder` to `result` (undefined: left running), each one later than the last. */
  async function build(builder: string, result: Result | undefined, options: { isTry?: boolean; changeIds?: number[] } = {}) {
    const at = (clock += 1000);
    const request = await store.enqueueRequest({
      builder,
      priority: 0,
      properties: {},
      reason: 'test',
      submittedBy: null,
      submittedAt: at,
      patchId: options.isTry ? patchId : null,
      changeIds: options.changeIds ?? [],
    });
    const started = await store.startBuild({ requestId: request.id, builder, worker: 'w1', properties: {}, steps: [], startedAt: at });
    if (!started) throw new Error('not claimed');
    if (result === undefined) return started.build;
    return (await store.finishBuild(started.build.id, { result, summary: null, finishedAt: at + 10, requeue: result === 'RETRY' })).build;
  }

  async function changes(...revisions: string[]): Promise<Change[]> {
    return store.recordChanges(
      'src',
      revisions.map((revision) => ({
        source: 'src',
        repository: 'r',
        branch: 'main',
        revision,
        author: `${revision} <${revision}@example.org>`,
        committer: 'c',
        message: revision,
        files: [],
        when: T0,
        via: 'poll' as const,
      })),
      {},
      T0,
    );
  }

  it('finds a streak: since its first failure, with that build and its blamelist, and the last build', async () => {
    const [c1, c2, c3] = await changes('c1', 'c2', 'c3');
    await build('linux', 'SUCCESS', { changeIds: [c1!.id] });
    const first = await build('linux', 'FAILURE', { changeIds: [c2!.id, c3!.id] });
    const last = await build('linux', 'EXCEPTION');
    const streaks = await store.failingStreaks(['linux']);
    expect(streaks).toEqual([{ builder: 'linux', firstFailing: first, blamelist: [c2, c3], last, failingBuilds: 2 }]);
  });

  it('ignores RETRY, CANCELLED, SKIPPED and try builds inside and after a streak', async () => {
    await build('linux', 'WARNINGS');
    await build('linux', 'RETRY');
    await build('linux', 'SUCCESS', { isTry: true });
    const first = await build('linux', 'FAILURE');
    await build('linux', 'SUCCESS', { isTry: true });
    await build('linux', 'CANCELLED');
    await build('linux', 'FAILURE');
    await build('linux', 'SKIPPED');
    const last = await build('linux', 'RETRY');
    await build('linux', 'SUCCESS', { isTry: true });
    await build('linux', undefined);
    const [streak] = await store.failingStreaks(['linux']);
    expect(streak).toMatchObject({ firstFailing: { id: first.id }, failingBuilds: 2, last: { id: last.id, result: 'RETRY' }, blamelist: [] });
  });

  it('does not start a streak with a failed try build or a cancelled one, and ends one with a pass', async () => {
    await build('try-only', 'FAILURE', { isTry: true });
    await build('cancelled', 'SUCCESS');
    await build('cancelled', 'CANCELLED');
    await build('recovered', 'FAILURE');
    await build('recovered', 'SUCCESS');
    await build('never-built', undefined);
    expect(await store.failingStreaks(['try-only', 'cancelled', 'recovered', 'never-built', 'unknown'])).toEqual([]);
    expect(await store.failingStreaks([])).toEqual([]);
  });

  it('counts a builder that never passed from its first counted build, and lists only the builders asked for', async () => {
    await build('old', 'FAILURE', { isTry: true });
    const first = await build('old', 'FAILURE');
    await build('old', 'FAILURE');
    await build('old', 'FAILURE');
    const newer = await build('new', 'FAILURE');
    await build('elsewhere', 'FAILURE');
    const streaks = await store.failingStreaks(['new', 'old', 'new']);
    expect(streaks.map((s) => [s.builder, s.firstFailing.id, s.failingBuilds])).toEqual([
      ['old', first.id, 3],
      ['new', newer.id, 1],
    ]);
  });

  it('summarises the queue: its length and the request submitted first', async () => {
    expect(await store.queueSummary()).toEqual({ length: 0, oldest: undefined });
    const [change] = await changes('q1');
    const base = { priority: 0, properties: {}, reason: 'q', submittedBy: null };
    await store.enqueueRequest({ ...base, builder: 'a', priority: 10, submittedAt: T0 + 50 });
    const oldest = await store.enqueueRequest({ ...base, builder: 'b', submittedAt: T0 + 5, changeIds: [change!.id] });
    await store.enqueueRequest({ ...base, builder: 'c', submittedAt: T0 + 5 });
    const cancelled = await store.enqueueRequest({ ...base, builder: 'd', submittedAt: T0 });
    await store.cancelQueuedRequest(cancelled.id, T0 + 60);
    const summary = await store.queueSummary();
    expect(summary).toEqual({ length: 3, oldest });
    expect(typeof summary.length).toBe('number');
  });
});
