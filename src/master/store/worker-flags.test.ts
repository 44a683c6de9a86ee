import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store, WorkerFlags } from './store.js';

const T0 = 1_700_000_000_000;

const NONE: Omit<WorkerFlags, 'worker'> = { paused: false, pausedBy: null, pausedAt: null, contact: null, notes: null };

describe.each(DATABASES)('worker flags on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('has no flags until an admin sets some', async () => {
    await store.recordWorkerConnected('w1', {}, T0);
    expect(await store.getWorkerFlags()).toEqual([]);
  });

  it('pauses and resumes a worker, by whom and when', async () => {
    await store.setWorkerPaused('w2', true, 'Ada <ada@example.org>', T0);
    expect(await store.getWorkerFlags()).toEqual([{ ...NONE, worker: 'w2', paused: true, pausedBy: 'Ada <ada@example.org>', pausedAt: T0 }]);
    await store.setWorkerPaused('w2', true, 'Bob <bob@example.org>', T0 + 5);
    expect(await store.getWorkerFlags()).toEqual([{ ...NONE, worker: 'w2', paused: true, pausedBy: 'Bob <bob@example.org>', pausedAt: T0 + 5 }]);
    await store.setWorkerPaused('w2', false, 'Ada <ada@example.org>', T0 + 10);
    expect(await store.getWorkerFlags()).toEqual([{ ...NONE, worker: 'w2' }]);
  });

  it('sets contact and notes without touching the paused flag, and the reverse', async () => {
    await store.setWorkerPaused('w1', true, 'ada', T0);
    await store.setWorkerContact('w1', 'Ada <ada@example.org>', 'in the basement; ring twice');
    await store.setWorkerContact('w0', 'Bob <bob@example.org>', null);
    const paused = { paused: true, pausedBy: 'ada', pausedAt: T0 };
    expect(await store.getWorkerFlags()).toEqual([
      { ...NONE, worker: 'w0', contact: 'Bob <bob@example.org>' },
      { ...NONE, worker: 'w1', ...paused, contact: 'Ada <ada@example.org>', notes: 'in the basement; ring twice' },
    ]);
    await store.setWorkerPaused('w1', false, 'ada', T0 + 1);
    await store.setWorkerContact('w0', null, 'moved');
    expect(await store.getWorkerFlags()).toEqual([
      { ...NONE, worker: 'w0', notes: 'moved' },
      { ...NONE, worker: 'w1', contact: 'Ada <ada@example.org>', notes: 'in the basement; ring twice' },
    ]);
  });
});
