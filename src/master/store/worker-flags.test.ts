import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store, WorkerFlags } from './store.js';

const T0 = 1_700_000_000_000;

const NONE: Omit<WorkerFlags, 'worker'> = { paused: false, pausedBy: null, pausedAt: null, contact: null, notes: null, maintenance: [] };

const HOUR = 3_600_000;

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

  it('replaces maintenance windows without touching the other flags, and clears them', async () => {
    await store.setWorkerPaused('w1', true, 'ada', T0);
    await store.setWorkerContact('w1', 'Ada <ada@example.org>', 'notes');
    const windows = [
      { cron: '0 2 * * 0', duration: 2 * HOUR },
      { cron: '30 22 1 * *', duration: HOUR / 2 },
    ];
    await store.setWorkerMaintenance('w1', windows);
    // A worker with no flags yet gets a row with only its windows.
    await store.setWorkerMaintenance('w2', [windows[1]!]);
    const w1 = { ...NONE, worker: 'w1', paused: true, pausedBy: 'ada', pausedAt: T0, contact: 'Ada <ada@example.org>', notes: 'notes' };
    expect(await store.getWorkerFlags()).toEqual([
      { ...w1, maintenance: windows },
      { ...NONE, worker: 'w2', maintenance: [windows[1]] },
    ]);

    await store.setWorkerMaintenance('w1', [windows[1]!]);
    await store.setWorkerContact('w2', 'Bob <bob@example.org>', null);
    expect(await store.getWorkerFlags()).toEqual([
      { ...w1, maintenance: [windows[1]] },
      { ...NONE, worker: 'w2', contact: 'Bob <bob@example.org>', maintenance: [windows[1]] },
    ]);

    await store.setWorkerMaintenance('w1', []);
    expect(await store.getWorkerFlags()).toEqual([w1, { ...NONE, worker: 'w2', contact: 'Bob <bob@example.org>', maintenance: [windows[1]] }]);
  });

  it('stores only the fields of a window', async () => {
    const window = { cron: '0 2 * * *', duration: HOUR, label: 'backups' };
    await store.setWorkerMaintenance('w1', [window]);
    expect(await store.getWorkerFlags()).toEqual([{ ...NONE, worker: 'w1', maintenance: [{ cron: '0 2 * * *', duration: HOUR }] }]);
  });
});
