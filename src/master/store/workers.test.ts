import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('worker sessions on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('opens a session on connect and closes it on disconnect', async () => {
    expect(await store.listWorkerSessions('w1', 0)).toEqual([]);
    await store.recordWorkerConnected('w1', { os: 'linux' }, T0);
    expect(await store.listWorkerSessions('w1', 0)).toEqual([{ worker: 'w1', connectedAt: T0, disconnectedAt: null }]);
    await store.recordWorkerDisconnected('w1', T0 + 10);
    await store.recordWorkerConnected('w1', { os: 'linux' }, T0 + 20);
    expect(await store.listWorkerSessions('w1', 0)).toEqual([
      { worker: 'w1', connectedAt: T0, disconnectedAt: T0 + 10 },
      { worker: 'w1', connectedAt: T0 + 20, disconnectedAt: null },
    ]);
    // The workers row is kept as before.
    expect((await store.listWorkers())[0]).toMatchObject({ name: 'w1', firstSeen: T0, connectedAt: T0 + 20 });
  });

  it('closes the open session when a worker reconnects without a disconnect', async () => {
    await store.recordWorkerConnected('w1', {}, T0);
    await store.recordWorkerConnected('w1', {}, T0 + 5);
    expect(await store.listWorkerSessions('w1', 0)).toEqual([
      { worker: 'w1', connectedAt: T0, disconnectedAt: T0 + 5 },
      { worker: 'w1', connectedAt: T0 + 5, disconnectedAt: null },
    ]);
  });

  it('lists every worker\'s sessions overlapping a window in one call', async () => {
    await store.recordWorkerConnected('w2', {}, T0);
    await store.recordWorkerDisconnected('w2', T0 + 10);
    await store.recordWorkerConnected('w1', {}, T0 + 5);
    await store.recordWorkerDisconnected('w1', T0 + 20);
    await store.recordWorkerConnected('w1', {}, T0 + 30);
    expect(await store.listAllWorkerSessions(0)).toEqual([
      { worker: 'w1', connectedAt: T0 + 5, disconnectedAt: T0 + 20 },
      { worker: 'w1', connectedAt: T0 + 30, disconnectedAt: null },
      { worker: 'w2', connectedAt: T0, disconnectedAt: T0 + 10 },
    ]);
    // Sessions that ended at or before `since` are left out; open ones never are.
    expect(await store.listAllWorkerSessions(T0 + 10)).toEqual([
      { worker: 'w1', connectedAt: T0 + 5, disconnectedAt: T0 + 20 },
      { worker: 'w1', connectedAt: T0 + 30, disconnectedAt: null },
    ]);
  });

  it('keeps workers apart and ignores a disconnect without a session', async () => {
    await store.recordWorkerConnected('w1', {}, T0);
    await store.recordWorkerConnected('w2', {}, T0 + 1);
    await store.recordWorkerDisconnected('w2', T0 + 2);
    await store.recordWorkerDisconnected('w2', T0 + 3);
    await store.recordWorkerDisconnected('never-seen', T0 + 3);
    expect(await store.listWorkerSessions('w1', 0)).toEqual([{ worker: 'w1', connectedAt: T0, disconnectedAt: null }]);
    expect(await store.listWorkerSessions('w2', 0)).toEqual([{ worker: 'w2', connectedAt: T0 + 1, disconnectedAt: T0 + 2 }]);
    expect(await store.listWorkerSessions('never-seen', 0)).toEqual([]);
  });

  it('closes every open session at start-up', async () => {
    await store.recordWorkerConnected('w1', {}, T0);
    await store.recordWorkerConnected('w2', {}, T0 + 1);
    await store.recordWorkerDisconnected('w2', T0 + 2);
    await store.recordWorkerConnected('w3', {}, T0 + 3);
    await store.resetWorkerConnections(T0 + 100);
    expect(await store.listWorkerSessions('w1', 0)).toEqual([{ worker: 'w1', connectedAt: T0, disconnectedAt: T0 + 100 }]);
    // Already closed: left as it was.
    expect(await store.listWorkerSessions('w2', 0)).toEqual([{ worker: 'w2', connectedAt: T0 + 1, disconnectedAt: T0 + 2 }]);
    expect(await store.listWorkerSessions('w3', 0)).toEqual([{ worker: 'w3', connectedAt: T0 + 3, disconnectedAt: T0 + 100 }]);
    expect((await store.listWorkers()).map((w) => w.connectedAt)).toEqual([null, null, null]);
  });

  it('lists the sessions overlapping [since, now), oldest first', async () => {
    const spans: [number, number | null][] = [
      [T0, T0 + 10],
      [T0 + 20, T0 + 30],
      [T0 + 40, T0 + 50],
      [T0 + 60, null],
    ];
    for (const [connected, disconnected] of spans) {
      await store.recordWorkerConnected('w1', {}, connected);
      if (disconnected !== null) await store.recordWorkerDisconnected('w1', disconnected);
    }
    const starts = async (since: number) => (await store.listWorkerSessions('w1', since)).map((s) => s.connectedAt - T0);
    expect(await starts(0)).toEqual([0, 20, 40, 60]);
    // A session ending exactly at `since` does not overlap [since, now).
    expect(await starts(T0 + 30)).toEqual([40, 60]);
    // One that ends after `since` does, though it started before.
    expect(await starts(T0 + 29)).toEqual([20, 40, 60]);
    expect(await starts(T0 + 45)).toEqual([40, 60]);
    // The open one always overlaps.
    expect(await starts(T0 + 1_000)).toEqual([60]);
  });
});
