import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('debug session audit on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('records a session asked for, opened and ended, and lists a build newest first', async () => {
    const first = await store.createDebugSession({ session: 'aaa', buildId: 7, worker: 'w1', user: 'ada', command: ['pwd'], startedAt: T0 });
    expect(first).toEqual({
      id: expect.any(Number), session: 'aaa', buildId: 7, worker: 'w1', user: 'ada', command: ['pwd'], startedAt: T0,
      mode: null, endedAt: null, exitCode: null, refusedReason: null, endReason: null, recording: null,
    });
    await store.markDebugSessionOpened('aaa', { mode: 'pipe', recording: 'debug/aaa.cast' });
    await store.finishDebugSession('aaa', { endedAt: T0 + 5, exitCode: 3, refusedReason: null, endReason: null });
    // Only the first end counts.
    await store.finishDebugSession('aaa', { endedAt: T0 + 9, exitCode: null, refusedReason: null, endReason: 'late' });
    await store.createDebugSession({ session: 'bbb', buildId: 7, worker: 'w1', user: 'victor', command: null, startedAt: T0 + 10 });
    await store.finishDebugSession('bbb', { endedAt: T0 + 11, exitCode: null, refusedReason: 'not allowed', endReason: null });
    await store.createDebugSession({ session: 'ccc', buildId: 8, worker: 'w2', user: 'ada', command: null, startedAt: T0 });

    const listed = await store.listDebugSessions(7);
    expect(listed.map((s) => s.session)).toEqual(['bbb', 'aaa']);
    expect(listed[1]).toMatchObject({ mode: 'pipe', recording: 'debug/aaa.cast', endedAt: T0 + 5, exitCode: 3, endReason: null });
    expect(listed[0]).toMatchObject({ user: 'victor', command: null, refusedReason: 'not allowed', mode: null });
    expect(await store.getDebugSession('ccc')).toMatchObject({ buildId: 8, worker: 'w2' });
    expect(await store.getDebugSession('zzz')).toBeUndefined();
  });

  it('refuses a session id twice', async () => {
    await store.createDebugSession({ session: 'aaa', buildId: 7, worker: 'w1', user: 'ada', command: null, startedAt: T0 });
    await expect(store.createDebugSession({ session: 'aaa', buildId: 8, worker: 'w1', user: 'ada', command: null, startedAt: T0 })).rejects.toThrow();
  });
});
