import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import { ShepherdError } from '../errors.js';
import type { Application, NewApplication, NewRegisteredWorker, RegisteredWorker, Store } from './store.js';

const T0 = 1_700_000_000_000;

const ADA = 'Ada <ada@example.org>';
const OPS = 'ops';

function application(fields: Partial<NewApplication> = {}): NewApplication {
  return {
    name: 'ada-arm64',
    dimensions: { os: 'linux', arch: 'arm64' },
    maxBuilds: 2,
    contact: ADA,
    notes: 'a Raspberry Pi 5 under my desk',
    tokenHash: 'a'.repeat(64),
    submittedAt: T0,
    ...fields,
  };
}

function registration(fields: Partial<NewRegisteredWorker> = {}): NewRegisteredWorker {
  return { name: 'ada-arm64', dimensions: { os: 'linux', arch: 'arm64' }, maxBuilds: 2, admins: [ADA], notes: null, ...fields };
}

const UNDECIDED = { state: 'pending', decidedBy: null, decidedAt: null, reason: null, worker: null } as const;

/** The conflict the store reports for a taken name, or fails the test. */
async function conflictOf(promise: Promise<unknown>): Promise<ShepherdError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShepherdError);
  expect(error).toMatchObject({ code: 'SHEPHERD_E_CONFLICT', status: 409, details: { field: 'name' } });
  return error as ShepherdError;
}

describe.each(DATABASES)('applications on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores pending applications and lists them newest first, filtered by state', async () => {
    const first = await store.createApplication(application());
    const second = await store.createApplication(application({ name: 'bob-mac', dimensions: { os: 'macos' }, notes: null, submittedAt: T0 + 1 }));
    expect(first).toEqual({ ...application(), id: first.id, ...UNDECIDED });
    expect(second).toMatchObject({ name: 'bob-mac', dimensions: { os: 'macos' }, notes: null, ...UNDECIDED });
    expect(second.id).toBeGreaterThan(first.id);

    expect(await store.getApplication(first.id)).toEqual(first);
    expect(await store.getApplication(second.id + 100)).toBeUndefined();
    expect(await store.listApplications({})).toEqual([second, first]);
    expect(await store.listApplications({ state: 'pending' })).toEqual([second, first]);
    expect(await store.listApplications({ state: 'approved' })).toEqual([]);
  });

  it('refuses a name already pending, but takes it again once that application is declined', async () => {
    const first = await store.createApplication(application());
    const error = await conflictOf(store.createApplication(application({ contact: 'Bob <bob@example.org>' })));
    expect(error.message).toContain('an application for a worker named "ada-arm64" is already pending');
    expect(await store.listApplications({})).toEqual([first]);

    const declined = await store.declineApplication(first.id, { by: OPS, at: T0 + 5, reason: 'we have enough arm64' });
    expect(declined).toEqual({ ...first, state: 'declined', decidedBy: OPS, decidedAt: T0 + 5, reason: 'we have enough arm64' });
    const again = await store.createApplication(application({ submittedAt: T0 + 10 }));
    expect(again).toMatchObject({ name: 'ada-arm64', ...UNDECIDED });
    expect(await store.listApplications({ state: 'declined' })).toEqual([declined]);
    expect(await store.listApplications({ state: 'pending' })).toEqual([again]);
  });

  it('refuses the name of a registered worker, retired ones included', async () => {
    const first = await store.createApplication(application());
    await store.approveApplication(first.id, { by: OPS, at: T0 + 1, worker: registration() });
    const error = await conflictOf(store.createApplication(application({ submittedAt: T0 + 2 })));
    expect(error.message).toContain('a worker named "ada-arm64" already exists');

    await store.retireWorker('ada-arm64', OPS, T0 + 3);
    await conflictOf(store.createApplication(application({ submittedAt: T0 + 4 })));
    // Nothing was stored by the refused attempts.
    expect((await store.listApplications({})).map((a) => a.id)).toEqual([first.id]);
  });

  it('lets exactly one of concurrent applications for a name through', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.createApplication(application({ submittedAt: T0 + i }))));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') expect(attempt.reason).toMatchObject({ code: 'SHEPHERD_E_CONFLICT', details: { field: 'name' } });
    }
    expect(await store.listApplications({ state: 'pending' })).toHaveLength(1);
  });

  it('approves a pending application once, registering its worker', async () => {
    const pending = await store.createApplication(application());
    const approved = await store.approveApplication(pending.id, { by: OPS, at: T0 + 60_000, worker: registration({ notes: 'welcome' }) });
    const application_: Application = { ...pending, state: 'approved', decidedBy: OPS, decidedAt: T0 + 60_000, worker: 'ada-arm64' };
    const worker: RegisteredWorker = {
      ...registration({ notes: 'welcome' }),
      applicationId: pending.id,
      createdBy: OPS,
      createdAt: T0 + 60_000,
      secretHash: null,
      secretCollectedAt: null,
      retiredBy: null,
      retiredAt: null,
    };
    expect(approved).toEqual({ application: application_, worker });
    expect(await store.getApplication(pending.id)).toEqual(application_);
    expect(await store.listRegisteredWorkers()).toEqual([worker]);

    expect(await store.approveApplication(pending.id, { by: 'someone', at: T0 + 70_000, worker: registration({ name: 'other' }) })).toBeUndefined();
    expect(await store.declineApplication(pending.id, { by: OPS, at: T0 + 70_000, reason: 'changed my mind' })).toBeUndefined();
    expect(await store.approveApplication(pending.id + 100, { by: OPS, at: T0, worker: registration({ name: 'ghost' }) })).toBeUndefined();
    expect(await store.getApplication(pending.id)).toEqual(application_);
    expect(await store.listRegisteredWorkers()).toEqual([worker]);
  });

  it('approves under another name than proposed, and refuses a name already registered', async () => {
    const ada = await store.createApplication(application());
    const bob = await store.createApplication(application({ name: 'bob-arm64', contact: 'Bob <bob@example.org>' }));
    await store.approveApplication(ada.id, { by: OPS, at: T0 + 1, worker: registration({ name: 'arm64-1' }) });

    const error = await conflictOf(store.approveApplication(bob.id, { by: OPS, at: T0 + 2, worker: registration({ name: 'arm64-1' }) }));
    expect(error.message).toContain('a worker named "arm64-1" already exists');
    // The refused approval changed nothing: still pending, and can be approved under a free name.
    expect(await store.getApplication(bob.id)).toEqual(bob);
    const approved = await store.approveApplication(bob.id, {
      by: OPS,
      at: T0 + 3,
      worker: registration({ name: 'arm64-2', admins: ['Bob <bob@example.org>', 'ops@example.org'], maxBuilds: 1 }),
    });
    expect(approved?.application).toMatchObject({ state: 'approved', worker: 'arm64-2' });
    expect(approved?.worker).toMatchObject({ name: 'arm64-2', applicationId: bob.id, admins: ['Bob <bob@example.org>', 'ops@example.org'], maxBuilds: 1 });

    expect((await store.listRegisteredWorkers()).map((w) => [w.name, w.applicationId])).toEqual([
      ['arm64-1', ada.id],
      ['arm64-2', bob.id],
    ]);
    expect(await store.getApplication(ada.id)).toMatchObject({ name: 'ada-arm64', worker: 'arm64-1' });
    // The proposed name was never registered, so it is free again.
    expect(await store.createApplication(application({ submittedAt: T0 + 4 }))).toMatchObject({ name: 'ada-arm64', state: 'pending' });
  });

  it('declines a pending application only', async () => {
    const pending = await store.createApplication(application());
    const declined = await store.declineApplication(pending.id, { by: OPS, at: T0 + 1, reason: 'no contact address' });
    expect(declined).toEqual({ ...pending, state: 'declined', decidedBy: OPS, decidedAt: T0 + 1, reason: 'no contact address' });
    expect(await store.declineApplication(pending.id, { by: OPS, at: T0 + 2, reason: 'again' })).toBeUndefined();
    expect(await store.approveApplication(pending.id, { by: OPS, at: T0 + 2, worker: registration() })).toBeUndefined();
    expect(await store.getApplication(pending.id)).toEqual(declined);
    expect(await store.listRegisteredWorkers()).toEqual([]);
  });

  it('lets the secret be collected once', async () => {
    const pending = await store.createApplication(application());
    expect(await store.collectWorkerSecret(pending.id, 'b'.repeat(64), T0 + 1)).toBe(false);
    await store.approveApplication(pending.id, { by: OPS, at: T0 + 2, worker: registration() });
    const other = await store.createApplication(application({ name: 'bob-mac' }));
    await store.approveApplication(other.id, { by: OPS, at: T0 + 2, worker: registration({ name: 'bob-mac' }) });

    expect(await store.collectWorkerSecret(pending.id, 'b'.repeat(64), T0 + 3)).toBe(true);
    expect(await store.collectWorkerSecret(pending.id, 'c'.repeat(64), T0 + 4)).toBe(false);
    const [ada, bob] = await store.listRegisteredWorkers();
    expect(ada).toMatchObject({ name: 'ada-arm64', secretHash: 'b'.repeat(64), secretCollectedAt: T0 + 3 });
    // Only the worker of that application.
    expect(bob).toMatchObject({ name: 'bob-mac', secretHash: null, secretCollectedAt: null });
  });

  it('lets exactly one of concurrent collections set the secret', async () => {
    const pending = await store.createApplication(application());
    await store.approveApplication(pending.id, { by: OPS, at: T0, worker: registration() });
    const hashes = Array.from({ length: 6 }, (_, i) => String(i).repeat(64));
    const results = await Promise.all(hashes.map((hash, i) => store.collectWorkerSecret(pending.id, hash, T0 + i)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.listRegisteredWorkers()).toMatchObject([{ secretHash: hashes[winner], secretCollectedAt: T0 + winner }]);
  });

  it('retires a worker once, keeping it listed', async () => {
    const pending = await store.createApplication(application());
    const approved = await store.approveApplication(pending.id, { by: OPS, at: T0, worker: registration() });
    const retired = await store.retireWorker('ada-arm64', ADA, T0 + 10);
    expect(retired).toEqual({ ...approved!.worker, retiredBy: ADA, retiredAt: T0 + 10 });
    expect(await store.retireWorker('ada-arm64', OPS, T0 + 20)).toBeUndefined();
    expect(await store.retireWorker('nobody', OPS, T0 + 20)).toBeUndefined();
    expect(await store.listRegisteredWorkers()).toEqual([retired]);
  });
});
