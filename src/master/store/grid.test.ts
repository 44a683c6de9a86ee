import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Change, Result } from '../domain.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('grid query on %s', (kind) => {
  let store: Store;
  let changes: Change[];

  beforeEach(async () => {
    store = await openTestStore(kind);
    changes = await store.recordChanges(
      'src',
      ['c1', 'c2', 'c3', 'c4'].map((revision) => ({
        source: 'src',
        repository: 'r',
        branch: 'main',
        revision,
        author: 'a',
        committer: 'c',
        message: revision,
        files: [],
        when: T0,
        via: 'poll' as const,
      })),
      {},
      T0,
    );
  });
  afterEach(async () => {
    await store.close();
  });

  /** A build of `builder` for these changes, finished with `result` (undefined: still running). */
  async function build(builder: string, changeIds: number[], result?: Result) {
    const request = await store.enqueueRequest({ builder, priority: 0, properties: {}, reason: 't', submittedBy: null, submittedAt: T0, changeIds });
    const started = (await store.startBuild({ requestId: request.id, builder, worker: 'w', properties: {}, steps: [], startedAt: T0 }))!;
    if (result === undefined) return started.build;
    return (await store.finishBuild(started.build.id, { result, summary: null, finishedAt: T0 + 1, requeue: result === 'RETRY' })).build;
  }

  it('puts a build under every change of its blamelist, newest change then newest build first', async () => {
    const [c1, c2, c3, c4] = changes.map((c) => c.id) as [number, number, number, number];
    const both = await build('linux', [c1, c2], 'FAILURE');
    const retried = await build('linux', [c3], 'RETRY');
    const rerun = await build('linux', [c3], undefined);
    const mac = await build('mac', [c1, c2, c3], 'SUCCESS');
    await build('windows', [c3], 'SUCCESS');
    await build('linux', [], 'SUCCESS');

    const cells = await store.gridBuilds([c4, c3, c2, c1, c1], ['linux', 'mac', 'gone']);
    expect(cells.map((c) => [c.changeId, c.builder, c.buildId])).toEqual([
      [c3, 'mac', mac.id],
      [c3, 'linux', rerun.id],
      [c3, 'linux', retried.id],
      [c2, 'mac', mac.id],
      [c2, 'linux', both.id],
      [c1, 'mac', mac.id],
      [c1, 'linux', both.id],
    ]);
    expect(cells[1]).toEqual({ changeId: c3, buildId: rerun.id, builder: 'linux', number: 3, state: 'running', result: null });
    expect(cells[2]).toMatchObject({ state: 'finished', result: 'RETRY' });
  });

  it('asks nothing for no changes or no builders', async () => {
    await build('linux', [changes[0]!.id], 'SUCCESS');
    expect(await store.gridBuilds([], ['linux'])).toEqual([]);
    expect(await store.gridBuilds([changes[0]!.id], [])).toEqual([]);
    expect(await store.gridBuilds([changes[1]!.id], ['linux'])).toEqual([]);
  });
});
