import { describe, expect, it } from 'vitest';
import { DATABASES, openTestStore, testDatabaseUrl } from '../../../test/helpers/databases.js';
import { openStore } from './open-store.js';

const T0 = 1_700_000_000_000;

// PostgreSQL only: a SQLite database belongs to one master process. (Two SQLite connections in one
// process cannot even be tested this way: better-sqlite3 waits for a lock synchronously, blocking
// the very event loop that would release it. open-store.test.ts checks the busy timeout instead.)
describe.each(['postgres'] as const)('two masters sharing one %s database', (kind) => {
  it('claim each request once and number builds without gaps or duplicates', async () => {
    const database = await testDatabaseUrl(kind);
    const a = await openStore(database.url);
    const b = await openStore(database.url);
    try {
      const requests = [];
      for (let i = 0; i < 8; i++) {
        requests.push(
          await a.enqueueRequest({ builder: 'linux', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 + i }),
        );
      }
      // Both masters try to claim every request at once, in opposite orders, so they mostly
      // claim different requests of the same builder at the same moment and race for numbers.
      const claim = (store: typeof a, worker: string, requestId: number) =>
        store.startBuild({ requestId, builder: 'linux', worker, properties: {}, steps: ['s'], startedAt: T0 + 100 });
      const attempts = [
        ...requests.map((req) => claim(a, 'wa', req.id)),
        ...requests.toReversed().map((req) => claim(b, 'wb', req.id)),
      ];
      const started = (await Promise.all(attempts)).filter((r) => r !== undefined);
      expect(started).toHaveLength(requests.length);
      expect(new Set(started.map((r) => r.request.id)).size).toBe(requests.length);
      expect(started.map((r) => r.build.number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await b.listQueuedRequests()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

describe.each(DATABASES)('builds per worker on %s', (kind) => {
  it('counts finished builds (retried ones included, running ones not) in one map', async () => {
    const store = await openTestStore(kind);
    try {
      expect(await store.countBuildsByWorker()).toEqual({});
      const run = async (worker: string, at: number, finish: 'SUCCESS' | 'RETRY' | null) => {
        const req = await store.enqueueRequest({ builder: `b-${at}`, priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: at });
        const started = await store.startBuild({ requestId: req.id, builder: `b-${at}`, worker, properties: {}, steps: ['s'], startedAt: at + 1 });
        if (!started) throw new Error('not claimed');
        if (finish) await store.finishBuild(started.build.id, { result: finish, summary: null, finishedAt: at + 2, requeue: finish === 'RETRY' });
      };
      await run('wa', T0, 'SUCCESS');
      await run('wa', T0 + 10, 'RETRY');
      await run('wb', T0 + 20, 'SUCCESS');
      await run('wb', T0 + 30, null);
      await run('wc', T0 + 40, null);
      expect(await store.countBuildsByWorker()).toEqual({ wa: 2, wb: 1 });
    } finally {
      await store.close();
    }
  });
});
