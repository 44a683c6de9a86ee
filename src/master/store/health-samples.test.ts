import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { HealthSample, Store } from './store.js';

const T0 = 1_700_000_000_000;
const BUCKET = 15 * 60_000;

function sample(n: number, fields: Partial<HealthSample> = {}): HealthSample {
  return { bucket: T0 + n * BUCKET, at: T0 + n * BUCKET + 1_234, score: 90 - n, platforms: { linux: 100, macos: 80 - n }, ...fields };
}

describe.each(DATABASES)('health samples on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('records one sample per bucket, keeping the first', async () => {
    expect(await store.recordHealthSample(sample(1))).toBe(true);
    // Another master (or a restarted one) sampling the same interval later, with other figures.
    expect(await store.recordHealthSample(sample(1, { at: T0 + BUCKET + 9_000, score: 10, platforms: {} }))).toBe(false);
    expect(await store.listHealthSamples(0)).toEqual([sample(1)]);
  });

  it('lists the samples from a bucket on, oldest first', async () => {
    for (const n of [3, 0, 2, 1]) expect(await store.recordHealthSample(sample(n))).toBe(true);
    expect(await store.recordHealthSample(sample(4, { platforms: {} }))).toBe(true);
    expect(await store.listHealthSamples(T0 + 2 * BUCKET)).toEqual([sample(2), sample(3), sample(4, { platforms: {} })]);
    expect(await store.listHealthSamples(T0 + 2 * BUCKET - 1)).toEqual([sample(2), sample(3), sample(4, { platforms: {} })]);
    expect(await store.listHealthSamples(T0 + 2 * BUCKET + 1)).toEqual([sample(3), sample(4, { platforms: {} })]);
    expect(await store.listHealthSamples(T0 + 5 * BUCKET)).toEqual([]);
    expect((await store.listHealthSamples(0)).map((s) => s.bucket)).toEqual([0, 1, 2, 3, 4].map((n) => T0 + n * BUCKET));
  });

  it('lets exactly one of concurrent recordings of a bucket through', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.recordHealthSample(sample(0, { score: i }))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.listHealthSamples(0)).toEqual([sample(0, { score: results.indexOf(true) })]);
  });
});
