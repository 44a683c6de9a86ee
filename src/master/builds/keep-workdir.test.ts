import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/databases.js';
import type { Build } from '../domain.js';
import type { Store } from '../store/store.js';
import { TestWorker } from '../workers/test-worker.js';
import { askToKeepWorkdir, keptProperties, recordWorkdirKept, shouldKeepWorkdir } from './keep-workdir.js';

const log = pino({ level: 'silent' });
const builder = { name: 'unix-tests', workers: [], properties: {}, tags: [], collapse: true, priority: 0, steps: [], keep_workdir_on_failure: true };

/** A Shepherd agent connection as far as keeping goes: it records what it was asked. */
class KeepingWorker extends TestWorker {
  asked: [number, string][] = [];
  keepWorkdir(buildId: number, builderDir: string): void {
    this.asked.push([buildId, builderDir]);
  }
}

describe('shouldKeepWorkdir', () => {
  it('keeps only red builds of builders that ask for it', () => {
    expect(shouldKeepWorkdir(builder, 'FAILURE')).toBe(true);
    expect(shouldKeepWorkdir(builder, 'EXCEPTION')).toBe(true);
    for (const result of ['SUCCESS', 'WARNINGS', 'CANCELLED', 'RETRY', null] as const) expect(shouldKeepWorkdir(builder, result)).toBe(false);
    expect(shouldKeepWorkdir({}, 'FAILURE')).toBe(false);
    expect(shouldKeepWorkdir({ keep_workdir_on_failure: false }, 'FAILURE')).toBe(false);
  });
});

describe('askToKeepWorkdir', () => {
  it('asks a connection that can keep, and nobody when the worker is away or cannot', () => {
    const worker = new KeepingWorker('w1');
    const build = { id: 7, worker: 'w1', result: 'FAILURE' } as Build;
    expect(askToKeepWorkdir(worker, build, builder, 'unix-tests', log)).toBeNull();
    expect(askToKeepWorkdir(worker, { ...build, result: 'SUCCESS' }, builder, 'unix-tests', log)).toBeNull();
    expect(worker.asked).toEqual([[7, 'unix-tests']]);
    // Not asked: the reason is known at once, for the build's workdir_not_kept.
    expect(askToKeepWorkdir(null, build, builder, 'unix-tests', log)).toBe('worker w1 was not connected when the build ended');
    const buildbot = Object.assign(new TestWorker('w1'), { protocol: 'buildbot' as const });
    expect(askToKeepWorkdir(buildbot as unknown as TestWorker, build, builder, 'unix-tests', log)).toBe("worker w1 is a Buildbot worker, which cannot keep a build's tree");
  });
});

describe('recordWorkdirKept', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openTestStore('sqlite');
  });
  afterEach(() => store.close());

  async function build(worker: string): Promise<Build> {
    const request = await store.enqueueRequest({ builder: 'unix-tests', priority: 0, properties: {}, reason: 'test', submittedBy: null, submittedAt: 1, changeIds: [], patchId: null });
    return (await store.startBuild({ requestId: request.id, builder: 'unix-tests', worker, properties: { revision: 'abc' }, steps: ['a'], startedAt: 1 }))!.build;
  }

  it("records the kept path or the worker's reason on the build, and only from the build's own worker", async () => {
    const kept = await build('w1');
    await recordWorkdirKept({ store, logger: log }, 'w1', { type: 'workdir_kept', build_id: kept.id, path: '/w/.shepherd/kept/unix-tests-1', reason: null });
    expect((await store.getBuild(kept.id))!.properties).toMatchObject({ revision: 'abc', workdir_kept: '/w/.shepherd/kept/unix-tests-1' });

    const refused = await build('w1');
    await recordWorkdirKept({ store, logger: log }, 'w1', { type: 'workdir_kept', build_id: refused.id, path: null, reason: 'too big' });
    expect((await store.getBuild(refused.id))!.properties.workdir_not_kept).toBe('too big');

    expect(await recordWorkdirKept({ store, logger: log }, 'w2', { type: 'workdir_kept', build_id: kept.id, path: '/elsewhere', reason: null })).toBeUndefined();
    expect((await store.getBuild(kept.id))!.properties.workdir_kept).toBe('/w/.shepherd/kept/unix-tests-1');
    expect(keptProperties({ path: null, reason: null })).toEqual({ workdir_not_kept: 'the worker did not say why' });
  });
});
