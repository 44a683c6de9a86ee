import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

describe.each(DATABASES)('queue waits on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  /** Queues a request at `submittedAt` and starts its build on `worker` at `startedAt`. */
  async function build(builder: string, worker: string, submittedAt: number, startedAt: number, collapse: number[] = []): Promise<number> {
    const request = await store.enqueueRequest({ builder, priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt });
    const started = await store.startBuild({ requestId: request.id, builder, worker, properties: {}, steps: ['s'], startedAt, collapse });
    if (!started) throw new Error('not claimed');
    return started.build.id;
  }

  it('reports each build started since a time with its own request wait, oldest first', async () => {
    await build('linux', 'w1', T0 - 10 * MINUTE, T0 - MINUTE);
    await build('linux', 'w1', T0, T0 + 3 * MINUTE);
    await build('macos', 'w2', T0 + MINUTE, T0 + MINUTE + 500);
    // Started at the same moment: ordered by id.
    await build('windows', 'w3', T0 - 60 * MINUTE, T0 + 3 * MINUTE);

    expect(await store.listQueueWaits(T0)).toEqual([
      { builder: 'macos', worker: 'w2', startedAt: T0 + MINUTE + 500, waitMs: 500 },
      { builder: 'linux', worker: 'w1', startedAt: T0 + 3 * MINUTE, waitMs: 3 * MINUTE },
      { builder: 'windows', worker: 'w3', startedAt: T0 + 3 * MINUTE, waitMs: 63 * MINUTE },
    ]);
    expect((await store.listQueueWaits(T0 - MINUTE)).map((w) => w.waitMs)).toEqual([9 * MINUTE, 500, 3 * MINUTE, 63 * MINUTE]);
    expect(await store.listQueueWaits(T0 + 3 * MINUTE + 1)).toEqual([]);
  });

  it('measures a collapsed build by its own request, and a retried request from its first submission', async () => {
    const older = await store.enqueueRequest({ builder: 'linux', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 - 5 * MINUTE });
    await build('linux', 'w1', T0, T0 + MINUTE, [older.id]);

    const retried = await store.enqueueRequest({ builder: 'macos', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 });
    const first = await store.startBuild({ requestId: retried.id, builder: 'macos', worker: 'w2', properties: {}, steps: ['s'], startedAt: T0 + 2 * MINUTE });
    await store.finishBuild(first!.build.id, { result: 'RETRY', summary: null, finishedAt: T0 + 3 * MINUTE, requeue: true });
    await store.startBuild({ requestId: retried.id, builder: 'macos', worker: 'w3', properties: {}, steps: ['s'], startedAt: T0 + 4 * MINUTE });

    expect(await store.listQueueWaits(T0)).toEqual([
      { builder: 'linux', worker: 'w1', startedAt: T0 + MINUTE, waitMs: MINUTE },
      { builder: 'macos', worker: 'w2', startedAt: T0 + 2 * MINUTE, waitMs: 2 * MINUTE },
      { builder: 'macos', worker: 'w3', startedAt: T0 + 4 * MINUTE, waitMs: 4 * MINUTE },
    ]);
  });
});
