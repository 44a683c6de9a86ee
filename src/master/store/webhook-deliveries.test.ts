import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('webhook deliveries on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('records a delivery once and recognises a redelivery', async () => {
    expect(await store.recordDelivery('github', 'd-1', T0)).toBe(true);
    expect(await store.recordDelivery('github', 'd-1', T0 + 1)).toBe(false);
    expect(await store.recordDelivery('github', 'd-2', T0 + 2)).toBe(true);
    // Ids are per provider.
    expect(await store.recordDelivery('gitea', 'd-1', T0 + 3)).toBe(true);
    expect(await store.recordDelivery('gitea', 'd-1', T0 + 4)).toBe(false);
  });

  it('lets exactly one of concurrent identical deliveries through', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => store.recordDelivery('gitlab', 'same', T0)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
