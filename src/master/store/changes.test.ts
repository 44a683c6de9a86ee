import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { NewChange } from '../domain.js';
import type { NewRequest, Store } from './store.js';

const T0 = 1_700_000_000_000;

function change(revision: string, overrides: Partial<NewChange> = {}): NewChange {
  return {
    source: 'shepherd',
    repository: 'https://example.org/shepherd.git',
    branch: 'main',
    revision,
    author: 'Alice <alice@example.org>',
    committer: 'Bob <bob@example.org>',
    message: `commit ${revision}\n\nwith ünïcode ✓`,
    files: ['src/a.c', 'docs/b.md'],
    when: T0 - 1000,
    via: 'poll',
    ...overrides,
  };
}

function request(overrides: Partial<NewRequest> = {}): NewRequest {
  return { builder: 'linux', priority: 0, properties: {}, reason: 'change', submittedBy: null, submittedAt: T0, ...overrides };
}

const ids = (items: { id: number }[]) => items.map((item) => item.id);

describe.each(DATABASES)('changes on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  describe('recording', () => {
    it('stores new changes and heads, and reads them back', async () => {
      const added = await store.recordChanges('shepherd', [change('a1'), change('a2', { via: 'github', files: [] })], { main: 'a2' }, T0);
      expect(added).toHaveLength(2);
      const [a1, a2] = added as [(typeof added)[0], (typeof added)[0]];
      expect(a1).toEqual({ ...change('a1'), id: expect.any(Number), receivedAt: T0 });
      expect(a2).toMatchObject({ revision: 'a2', via: 'github', files: [] });
      expect(a2.id).toBeGreaterThan(a1.id);
      expect(await store.getChange(a1.id)).toEqual(a1);
      expect(await store.getChange(a2.id + 1000)).toBeUndefined();
      expect(await store.getHeads('shepherd')).toEqual({ main: 'a2' });
      expect(await store.getHeads('other')).toEqual({});
      for (const value of [a1.id, a1.when, a1.receivedAt]) expect(typeof value).toBe('number');
    });

    it('skips a change already stored and returns only the new ones, oldest first', async () => {
      const [first] = await store.recordChanges('shepherd', [change('a1')], { main: 'a1' }, T0);
      const again = await store.recordChanges('shepherd', [change('a1'), change('a2'), change('a3'), change('a2')], { main: 'a3' }, T0 + 1);
      expect(again.map((c) => c.revision)).toEqual(['a2', 'a3']);
      expect(again.every((c) => c.receivedAt === T0 + 1)).toBe(true);
      // The stored change is untouched by the repeat.
      expect(await store.getChange(first!.id)).toEqual(first);
      expect(await store.recordChanges('shepherd', [change('a3')], {}, T0 + 2)).toEqual([]);
      // The same revision on another branch or source is another change.
      const other = await store.recordChanges('shepherd', [change('a1', { branch: 'dev' })], {}, T0 + 3);
      const elsewhere = await store.recordChanges('fork', [change('a1')], {}, T0 + 3);
      expect(other).toHaveLength(1);
      expect(elsewhere).toHaveLength(1);
      expect(elsewhere[0]!.source).toBe('fork');
      expect(await store.listChanges({ limit: 100 })).toHaveLength(5);
    });

    it('moves heads and removes a branch that disappeared', async () => {
      await store.recordChanges('shepherd', [], { main: 'a1', dev: 'd1', old: 'o1' }, T0);
      await store.recordChanges('fork', [], { main: 'f1' }, T0);
      await store.recordChanges('shepherd', [], { main: 'a2', old: null, gone: null }, T0 + 1);
      expect(await store.getHeads('shepherd')).toEqual({ main: 'a2', dev: 'd1' });
      expect(await store.getHeads('fork')).toEqual({ main: 'f1' });
    });

    it('records nothing when a change in the batch cannot be stored', async () => {
      await store.recordChanges('shepherd', [], { main: 'a0' }, T0);
      const broken = { ...change('a2'), message: null } as unknown as NewChange;
      await expect(store.recordChanges('shepherd', [change('a1'), broken], { main: 'a2' }, T0)).rejects.toThrow();
      expect(await store.listChanges({ limit: 10 })).toEqual([]);
      expect(await store.getHeads('shepherd')).toEqual({ main: 'a0' });
    });

    it('stores a large batch in ascending id order', async () => {
      const many = Array.from({ length: 1500 }, (_, i) => change(`r${i}`));
      const added = await store.recordChanges('shepherd', many, { main: 'r1499' }, T0);
      expect(added.map((c) => c.revision)).toEqual(many.map((c) => c.revision));
      expect(ids(added)).toEqual(ids(added).toSorted((a, b) => a - b));
    });
  });

  describe('reading', () => {
    it('gets changes by ids in ascending order, skipping unknown ones', async () => {
      const added = await store.recordChanges('shepherd', [change('a1'), change('a2'), change('a3')], {}, T0);
      const [a1, a2, a3] = added;
      expect(await store.getChanges([a3!.id, a1!.id, a3!.id, a2!.id + 1000])).toEqual([a1, a3]);
      expect(await store.getChanges([])).toEqual([]);
    });

    it('lists changes newest first, filtered and keyset-paged', async () => {
      const [m1, d1, m2] = await store.recordChanges('shepherd', [change('m1'), change('d1', { branch: 'dev' }), change('m2')], {}, T0);
      const [f1] = await store.recordChanges('fork', [change('f1')], {}, T0 + 1);
      const [m3] = await store.recordChanges('shepherd', [change('m3')], {}, T0 + 2);

      expect(ids(await store.listChanges({ limit: 100 }))).toEqual(ids([m3!, f1!, m2!, d1!, m1!]));
      expect(ids(await store.listChanges({ limit: 2 }))).toEqual(ids([m3!, f1!]));
      expect(ids(await store.listChanges({ limit: 2, beforeId: f1!.id }))).toEqual(ids([m2!, d1!]));
      expect(ids(await store.listChanges({ limit: 2, beforeId: d1!.id }))).toEqual(ids([m1!]));
      expect(ids(await store.listChanges({ limit: 2, beforeId: m1!.id }))).toEqual([]);
      expect(ids(await store.listChanges({ limit: 100, source: 'shepherd' }))).toEqual(ids([m3!, m2!, d1!, m1!]));
      expect(ids(await store.listChanges({ limit: 100, source: 'shepherd', branch: 'main' }))).toEqual(ids([m3!, m2!, m1!]));
      expect(ids(await store.listChanges({ limit: 1, source: 'shepherd', branch: 'main', beforeId: m3!.id }))).toEqual(ids([m2!]));
      expect(ids(await store.listChanges({ limit: 100, branch: 'dev' }))).toEqual(ids([d1!]));
      expect(await store.listChanges({ limit: 100, source: 'nope' })).toEqual([]);
      expect((await store.listChanges({ limit: 1 }))[0]).toEqual(m3);
    });

    it('finds the latest change on a branch', async () => {
      expect(await store.latestChange('shepherd', 'main')).toBeUndefined();
      await store.recordChanges('shepherd', [change('m1'), change('m2'), change('d1', { branch: 'dev' })], {}, T0);
      await store.recordChanges('fork', [change('f1')], {}, T0);
      expect(await store.latestChange('shepherd', 'main')).toMatchObject({ revision: 'm2' });
      expect(await store.latestChange('shepherd', 'dev')).toMatchObject({ revision: 'd1' });
      expect(await store.latestChange('fork', 'main')).toMatchObject({ revision: 'f1' });
      expect(await store.latestChange('fork', 'dev')).toBeUndefined();
    });
  });

  describe('requests for changes', () => {
    it('stores scheduler, collapse key, patch and change ids (ascending) with a request', async () => {
      const [a1, a2, a3] = await store.recordChanges('shepherd', [change('a1'), change('a2'), change('a3')], {}, T0);
      const patch = await store.addPatch({
        source: 'shepherd',
        baseRevision: '',
        branch: 'main',
        author: 'A <a@x>',
        comment: '',
        createdAt: T0,
        data: Buffer.from('diff'),
      });
      const req = await store.enqueueRequest(
        request({ scheduler: 'on-main', collapseKey: 'main', patchId: patch.id, changeIds: [a3!.id, a1!.id, a3!.id] }),
      );
      expect(req).toMatchObject({ scheduler: 'on-main', collapseKey: 'main', patchId: patch.id, changeIds: [a1!.id, a3!.id] });
      expect(await store.getRequest(req.id)).toEqual(req);

      const plain = await store.enqueueRequest(request());
      expect(plain).toMatchObject({ scheduler: null, collapseKey: null, patchId: null, changeIds: [] });
      const other = await store.enqueueRequest(request({ changeIds: [a2!.id] }));
      expect(await store.listQueuedRequests()).toEqual([req, plain, other]);
      for (const value of [req.patchId, ...req.changeIds]) expect(typeof value).toBe('number');

      const cancelled = await store.cancelQueuedRequest(req.id, T0 + 1);
      expect(cancelled).toMatchObject({ state: 'complete', changeIds: [a1!.id, a3!.id], scheduler: 'on-main' });
    });
  });

  describe('collapsing and blamelists', () => {
    async function threeChanges() {
      const added = await store.recordChanges('shepherd', [change('a1'), change('a2'), change('a3'), change('a4')], {}, T0);
      return added as [(typeof added)[0], (typeof added)[0], (typeof added)[0], (typeof added)[0]];
    }

    it('claims the still-queued requests of the same builder and builds the union of their changes', async () => {
      const [a1, a2, a3, a4] = await threeChanges();
      const head = await store.enqueueRequest(request({ collapseKey: 'k', changeIds: [a3!.id] }));
      const older = await store.enqueueRequest(request({ collapseKey: 'k', changeIds: [a1!.id, a2!.id] }));
      const overlap = await store.enqueueRequest(request({ collapseKey: 'k', changeIds: [a2!.id, a3!.id] }));
      const cancelled = await store.enqueueRequest(request({ collapseKey: 'k', changeIds: [a4!.id] }));
      await store.cancelQueuedRequest(cancelled.id, T0 + 1);
      const otherBuilder = await store.enqueueRequest(request({ builder: 'mac', collapseKey: 'k', changeIds: [a4!.id] }));
      const elsewhere = await store.enqueueRequest(request({ collapseKey: 'k', changeIds: [a4!.id] }));
      const stolen = await store.startBuild({ requestId: elsewhere.id, builder: 'linux', worker: 'w2', properties: {}, steps: [], startedAt: T0 + 2 });

      const started = await store.startBuild({
        requestId: head.id,
        builder: 'linux',
        worker: 'w1',
        properties: {},
        steps: ['s'],
        startedAt: T0 + 3,
        collapse: [older.id, overlap.id, cancelled.id, otherBuilder.id, elsewhere.id, head.id, 123456],
      });
      expect(started).toBeDefined();
      const { build, request: claimed } = started!;
      expect(claimed).toEqual({ ...head, state: 'claimed', buildId: build.id });
      expect(await store.getRequest(older.id)).toMatchObject({ state: 'claimed', buildId: build.id, changeIds: [a1!.id, a2!.id] });
      expect(await store.getRequest(overlap.id)).toMatchObject({ state: 'claimed', buildId: build.id });
      expect(await store.getRequest(cancelled.id)).toMatchObject({ state: 'complete', result: 'CANCELLED', buildId: null });
      expect(await store.getRequest(otherBuilder.id)).toMatchObject({ state: 'queued', buildId: null });
      expect(await store.getRequest(elsewhere.id)).toMatchObject({ state: 'claimed', buildId: stolen!.build.id });
      expect((await store.listQueuedRequests()).map((r) => r.id)).toEqual([otherBuilder.id]);

      expect(ids(await store.getBlamelist(build.id))).toEqual([a1!.id, a2!.id, a3!.id]);
      expect(ids(await store.getBlamelist(stolen!.build.id))).toEqual([a4!.id]);
      expect(await store.getBlamelist(build.id + 1000)).toEqual([]);
      expect((await store.getBlamelist(build.id))[0]).toEqual(a1);

      // Finishing completes every request the build claimed, and reports its own.
      const done = await store.finishBuild(build.id, { result: 'FAILURE', summary: null, finishedAt: T0 + 9, requeue: false });
      expect(done.request).toEqual({ ...claimed, state: 'complete', result: 'FAILURE' });
      for (const id of [older.id, overlap.id]) {
        expect(await store.getRequest(id)).toMatchObject({ state: 'complete', result: 'FAILURE', buildId: build.id });
      }
      expect(await store.getRequest(elsewhere.id)).toMatchObject({ state: 'claimed' });
      expect(await store.getRequest(otherBuilder.id)).toMatchObject({ state: 'queued' });
    });

    it('requeues every collapsed request of a RETRY build', async () => {
      const [a1, a2] = await threeChanges();
      const head = await store.enqueueRequest(request({ changeIds: [a2!.id] }));
      const older = await store.enqueueRequest(request({ changeIds: [a1!.id] }));
      const started = await store.startBuild({
        requestId: head.id,
        builder: 'linux',
        worker: 'w1',
        properties: {},
        steps: [],
        startedAt: T0 + 1,
        collapse: [older.id],
      });
      const done = await store.finishBuild(started!.build.id, { result: 'RETRY', summary: 'lost', finishedAt: T0 + 2, requeue: true });
      expect(done.request).toEqual({ ...head, state: 'queued', buildId: null, result: null });
      const queue = await store.listQueuedRequests();
      expect(queue).toEqual([head, older]);
      // The retry is a new build with its own blamelist; the first keeps what it built.
      const again = await store.startBuild({ requestId: older.id, builder: 'linux', worker: 'w1', properties: {}, steps: [], startedAt: T0 + 3 });
      expect(ids(await store.getBlamelist(again!.build.id))).toEqual([a1!.id]);
      expect(ids(await store.getBlamelist(started!.build.id))).toEqual([a1!.id, a2!.id]);
    });

    it('a build without collapse has its own request\'s changes as blamelist', async () => {
      const [a1, , a3] = await threeChanges();
      const req = await store.enqueueRequest(request({ changeIds: [a1!.id, a3!.id] }));
      const { build } = (await store.startBuild({ requestId: req.id, builder: 'linux', worker: 'w', properties: {}, steps: [], startedAt: T0 }))!;
      expect(ids(await store.getBlamelist(build.id))).toEqual([a1!.id, a3!.id]);
      const forced = await store.enqueueRequest(request());
      const { build: plain } = (await store.startBuild({ requestId: forced.id, builder: 'linux', worker: 'w', properties: {}, steps: [], startedAt: T0 }))!;
      expect(await store.getBlamelist(plain.id)).toEqual([]);
    });

    it('lists the builds of changes', async () => {
      const [a1, a2, a3] = await threeChanges();
      const r1 = await store.enqueueRequest(request({ changeIds: [a1!.id, a2!.id] }));
      const r2 = await store.enqueueRequest(request({ builder: 'mac', changeIds: [a2!.id] }));
      const b1 = (await store.startBuild({ requestId: r1.id, builder: 'linux', worker: 'w', properties: {}, steps: [], startedAt: T0 }))!.build;
      const b2 = (await store.startBuild({ requestId: r2.id, builder: 'mac', worker: 'w', properties: {}, steps: [], startedAt: T0 }))!.build;
      await store.finishBuild(b1.id, { result: 'SUCCESS', summary: null, finishedAt: T0 + 1, requeue: false });

      expect(await store.buildsOfChanges([a3!.id, a2!.id, a1!.id])).toEqual([
        { changeId: a1!.id, buildId: b1.id, builder: 'linux', number: 1, state: 'finished', result: 'SUCCESS' },
        { changeId: a2!.id, buildId: b1.id, builder: 'linux', number: 1, state: 'finished', result: 'SUCCESS' },
        { changeId: a2!.id, buildId: b2.id, builder: 'mac', number: 1, state: 'running', result: null },
      ]);
      expect(await store.buildsOfChanges([])).toEqual([]);
    });
  });
});
