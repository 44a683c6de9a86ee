import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Step } from '../domain.js';
import type { NewStepFile, Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('step files on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  async function build(): Promise<{ buildId: number; steps: Step[] }> {
    const request = await store.enqueueRequest({ builder: 'linux', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 });
    const started = await store.startBuild({ requestId: request.id, builder: 'linux', worker: 'w', properties: {}, steps: ['make', 'test'], startedAt: T0 });
    return { buildId: started!.build.id, steps: started!.steps };
  }

  const file = (buildId: number, stepId: number, extra: Partial<NewStepFile> = {}): NewStepFile => ({
    buildId,
    stepId,
    kind: 'artifact',
    name: 'config.log',
    size: 5_000_000_000,
    path: `files/${buildId}/${stepId}/artifact/config.log`,
    createdAt: T0,
    skipped: null,
    ...extra,
  });

  it('records files and skipped ones, lists them by build, step and kind, and gets one by id', async () => {
    const { buildId, steps } = await build();
    const [make, test] = steps as [Step, Step];
    // Sizes past 2^32: int8 columns on both databases.
    const log = await store.addStepFile(file(buildId, make.id));
    expect(log).toEqual({ id: expect.any(Number), ...file(buildId, make.id) });
    const core = await store.addStepFile(file(buildId, make.id, { name: 'core', path: null, skipped: 'larger than 100 MiB', size: 3e9 }));
    const junit = await store.addStepFile(file(buildId, test.id, { kind: 'test_results', name: 'out/junit.xml', size: 12 }));
    expect(await store.listStepFiles({ buildId })).toEqual([log, core, junit]);
    expect(await store.listStepFiles({ stepId: make.id })).toEqual([log, core]);
    expect(await store.listStepFiles({ stepId: test.id, kind: 'test_results' })).toEqual([junit]);
    expect(await store.listStepFiles({ stepId: test.id, kind: 'artifact' })).toEqual([]);
    expect(await store.getStepFile(junit!.id)).toEqual(junit);
    expect(await store.getStepFile(junit!.id + 100)).toBeUndefined();
  });

  it('refuses a second file of the same kind and name for one step, recording nothing', async () => {
    const { buildId, steps } = await build();
    const first = await store.addStepFile(file(buildId, steps[0]!.id));
    expect(await store.addStepFile(file(buildId, steps[0]!.id, { size: 1 }))).toBeUndefined();
    // Another kind, or another step, is another file.
    expect(await store.addStepFile(file(buildId, steps[0]!.id, { kind: 'test_results' }))).toBeDefined();
    expect(await store.addStepFile(file(buildId, steps[1]!.id))).toBeDefined();
    expect((await store.listStepFiles({ stepId: steps[0]!.id })).map((f) => f.size)).toEqual([first!.size, first!.size]);
  });

  it('sums the stored bytes per build and deletes a build\'s files together', async () => {
    const a = await build();
    const b = await build();
    await store.addStepFile(file(a.buildId, a.steps[0]!.id, { size: 3e9, createdAt: T0 + 5 }));
    await store.addStepFile(file(a.buildId, a.steps[1]!.id, { size: 2e9, createdAt: T0 + 9 }));
    await store.addStepFile(file(a.buildId, a.steps[1]!.id, { name: 'skipped', size: 7e9, path: null, skipped: 'too big', createdAt: T0 + 20 }));
    await store.addStepFile(file(b.buildId, b.steps[0]!.id, { size: 10, createdAt: T0 + 1 }));
    expect(await store.stepFileUsage()).toEqual([
      { buildId: a.buildId, bytes: 5e9, newestAt: T0 + 9 },
      { buildId: b.buildId, bytes: 10, newestAt: T0 + 1 },
    ]);
    expect(await store.deleteStepFiles([a.buildId])).toBe(3);
    expect(await store.listStepFiles({ buildId: a.buildId })).toEqual([]);
    expect(await store.listStepFiles({ buildId: b.buildId })).toHaveLength(1);
    expect(await store.deleteStepFiles([])).toBe(0);
  });
});
