import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

describe.each(DATABASES)('scheduler state on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('saves, replaces and reads back a scheduler\'s state', async () => {
    expect(await store.getSchedulerState('nightly')).toBeUndefined();
    await store.setSchedulerState('nightly', { lastRun: 1_700_000_000_000, revisions: { main: 'abc' } });
    await store.setSchedulerState('weekly', { lastRun: 1 });
    expect(await store.getSchedulerState('nightly')).toEqual({ lastRun: 1_700_000_000_000, revisions: { main: 'abc' } });
    await store.setSchedulerState('nightly', { lastRun: 1_700_000_086_400 });
    expect(await store.getSchedulerState('nightly')).toEqual({ lastRun: 1_700_000_086_400 });
    expect(await store.getSchedulerState('weekly')).toEqual({ lastRun: 1 });
  });
});
