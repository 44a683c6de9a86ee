import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import { ShepherdError } from '../errors.js';
import type { NewLatentInstance } from './latent-instances.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

function instance(overrides: Partial<NewLatentInstance> = {}): NewLatentInstance {
  return {
    name: 'ec2-1',
    pool: 'ec2',
    provider: 'ec2',
    masterId: 'm1',
    startedAt: T0,
    tokenHash: 'a'.repeat(64),
    tokenExpiresAt: T0 + 600_000,
    costPerHour: 0.25,
    ...overrides,
  };
}

/** The conflict a second alive instance of a name gets: SHEPHERD_E_CONFLICT naming `name`. */
async function expectNameConflict(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShepherdError);
  expect(error).toMatchObject({ code: 'SHEPHERD_E_CONFLICT', details: { field: 'name' } });
}

describe.each(DATABASES)('on-demand instances on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('records an instance as starting, with no provider id yet', async () => {
    const created = await store.createLatentInstance(instance());
    expect(created).toEqual({
      id: expect.any(Number),
      name: 'ec2-1',
      pool: 'ec2',
      provider: 'ec2',
      masterId: 'm1',
      startedAt: T0,
      providerId: null,
      state: 'starting',
      connectedAt: null,
      idleSince: null,
      stoppedAt: null,
      builds: 0,
      reason: null,
      tokenHash: 'a'.repeat(64),
      tokenExpiresAt: T0 + 600_000,
      sessionHash: null,
      costPerHour: 0.25,
    });
    expect(await store.getLatentInstance(created.id)).toEqual(created);
  });

  it('changes each field a patch has and keeps the others', async () => {
    const { id } = await store.createLatentInstance(instance());
    expect(await store.updateLatentInstance(id, { providerId: 'i-0abc' })).toMatchObject({ providerId: 'i-0abc', state: 'starting' });
    expect(await store.updateLatentInstance(id, { state: 'connected', connectedAt: T0 + 1, tokenHash: null, tokenExpiresAt: null, sessionHash: 'b'.repeat(64) })).toMatchObject({
      providerId: 'i-0abc',
      state: 'connected',
      connectedAt: T0 + 1,
      tokenHash: null,
      tokenExpiresAt: null,
      sessionHash: 'b'.repeat(64),
    });
    expect(await store.updateLatentInstance(id, { state: 'idle', idleSince: T0 + 2 })).toMatchObject({ state: 'idle', idleSince: T0 + 2 });
    expect(await store.updateLatentInstance(id, { state: 'building', idleSince: null })).toMatchObject({ state: 'building', idleSince: null });
    expect(await store.updateLatentInstance(id, { builds: 3 })).toMatchObject({ builds: 3, state: 'building' });
    // An empty patch changes nothing and still answers with the record.
    expect(await store.updateLatentInstance(id, {})).toMatchObject({ builds: 3 });
    const stopped = await store.updateLatentInstance(id, { state: 'stopped', stoppedAt: T0 + 9, reason: 'idle for 10 minutes' });
    expect(stopped).toEqual({
      id,
      name: 'ec2-1',
      pool: 'ec2',
      provider: 'ec2',
      masterId: 'm1',
      startedAt: T0,
      providerId: 'i-0abc',
      state: 'stopped',
      connectedAt: T0 + 1,
      idleSince: null,
      stoppedAt: T0 + 9,
      builds: 3,
      reason: 'idle for 10 minutes',
      tokenHash: null,
      tokenExpiresAt: null,
      sessionHash: 'b'.repeat(64),
      // Set at the start only: a patch never re-prices an instance.
      costPerHour: 0.25,
    });
    expect(await store.getLatentInstance(id)).toEqual(stopped);
  });

  it('answers undefined for an unknown id', async () => {
    expect(await store.getLatentInstance(999)).toBeUndefined();
    expect(await store.updateLatentInstance(999, { state: 'stopped' })).toBeUndefined();
    expect(await store.updateLatentInstance(999, {})).toBeUndefined();
  });

  it('lists oldest start first, filtered by master, pool, alive and since', async () => {
    // Created out of start order, so the order is the listing's and not the ids'.
    const late = await store.createLatentInstance(instance({ name: 'ec2-2', startedAt: T0 + 300 }));
    const early = await store.createLatentInstance(instance({ name: 'ec2-1', startedAt: T0 + 100 }));
    const other = await store.createLatentInstance(instance({ name: 'k8s-1', pool: 'k8s', provider: 'kubernetes', masterId: 'm2', startedAt: T0 + 200 }));
    const stoppedBefore = await store.createLatentInstance(instance({ name: 'ec2-3', startedAt: T0 }));
    await store.updateLatentInstance(stoppedBefore.id, { state: 'stopped', stoppedAt: T0 + 50 });
    const stoppedAtSince = await store.createLatentInstance(instance({ name: 'ec2-4', startedAt: T0 + 10 }));
    await store.updateLatentInstance(stoppedAtSince.id, { state: 'failed', stoppedAt: T0 + 1000 });
    // Same start time as `early`: ties go by id.
    const tie = await store.createLatentInstance(instance({ name: 'ec2-5', startedAt: T0 + 100 }));

    const ids = async (filter: Parameters<Store['listLatentInstances']>[0]) => (await store.listLatentInstances(filter)).map((i) => i.id);
    expect(await ids({})).toEqual([stoppedBefore.id, stoppedAtSince.id, early.id, tie.id, other.id, late.id]);
    expect(await ids({ masterId: 'm2' })).toEqual([other.id]);
    expect(await ids({ pool: 'ec2' })).toEqual([stoppedBefore.id, stoppedAtSince.id, early.id, tie.id, late.id]);
    expect(await ids({ alive: true })).toEqual([early.id, tie.id, other.id, late.id]);
    expect(await ids({ alive: false })).toEqual(await ids({}));
    expect(await ids({ since: T0 + 1000 })).toEqual([stoppedAtSince.id, early.id, tie.id, other.id, late.id]);
    expect(await ids({ since: T0 + 1001 })).toEqual([early.id, tie.id, other.id, late.id]);
    expect(await ids({ since: T0 + 50 })).toEqual([stoppedBefore.id, stoppedAtSince.id, early.id, tie.id, other.id, late.id]);
    expect(await ids({ masterId: 'm1', pool: 'ec2', alive: true })).toEqual([early.id, tie.id, late.id]);
    expect(await ids({ masterId: 'nobody' })).toEqual([]);
  });

  it('refuses a second alive instance of a name, naming `name`, and reuses the name once the first stopped', async () => {
    const first = await store.createLatentInstance(instance());
    await expectNameConflict(store.createLatentInstance(instance({ masterId: 'm2', startedAt: T0 + 1 })));
    // Stopping is not stopped: the row is alive until stopped_at is set.
    await store.updateLatentInstance(first.id, { state: 'stopping' });
    await expectNameConflict(store.createLatentInstance(instance({ startedAt: T0 + 2 })));

    await store.updateLatentInstance(first.id, { state: 'stopped', stoppedAt: T0 + 3 });
    const second = await store.createLatentInstance(instance({ startedAt: T0 + 4 }));
    expect(second.id).not.toBe(first.id);
    expect((await store.listLatentInstances({ alive: true })).map((i) => i.id)).toEqual([second.id]);
    expect((await store.listLatentInstances({})).map((i) => i.id)).toEqual([first.id, second.id]);

    // Bringing the stopped one back to life would make two alive instances of the name.
    await expectNameConflict(store.updateLatentInstance(first.id, { stoppedAt: null }));
    expect(await store.getLatentInstance(first.id)).toMatchObject({ stoppedAt: T0 + 3 });
  });

  it('lets exactly one of several concurrent starts of a name win', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, n) => store.createLatentInstance(instance({ masterId: `m${n}`, startedAt: T0 + n }))),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const loss of lost) expect(loss.reason).toMatchObject({ code: 'SHEPHERD_E_CONFLICT', details: { field: 'name' } });
    expect(await store.listLatentInstances({})).toHaveLength(1);
  });
});
