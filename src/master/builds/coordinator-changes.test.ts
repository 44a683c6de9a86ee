/**
 * The coordinator's part in building changes, against a real store (SQLite
 * and PostgreSQL): collapsing queued requests into one build with the union
 * blamelist, requeueing all of them on RETRY, and checkout steps (the
 * generated script, the try patch as a step file, got_revision coming back
 * as a build property later steps can use).
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { StepOutcome } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Change, NewChange } from '../domain.js';
import { MasterEventBus, type MasterEvents } from '../events.js';
import type { Store } from '../store/store.js';
import { TestWorker } from '../workers/test-worker.js';
import { Coordinator } from './coordinator.js';

const ok = (o: Partial<StepOutcome> = {}): StepOutcome => ({ exit_code: 0, signal: null, duration_ms: 5, ended_by: null, spawn_error: null, ...o });

const CONFIG = `
master: { worker_lost_after: 5m }
workers:
  - { name: w1, secret_env: S1, max_builds: 4, dimensions: { os: linux } }
changes:
  - { name: proj, git: "https://user:hunter2@git.example.org/proj.git", branches: [main] }
builders:
  - name: collapsing
    workers: { os: linux }
    steps:
      - { name: test, run: "echo \${{ props.revision }}" }
  - name: each
    collapse: false
    workers: { os: linux }
    steps:
      - { name: test, run: "echo \${{ props.revision }}" }
  - name: checked-out
    workers: { os: linux }
    steps:
      - { name: checkout, checkout: { source: proj, mode: full } }
      - { name: show, run: "echo \${{ props.got_revision }}" }
`;

function change(n: number): NewChange {
  return {
    source: 'proj',
    repository: 'https://git.example.org/proj.git',
    branch: 'main',
    revision: `${n}`.repeat(40).slice(0, 40),
    author: `Author ${n} <a${n}@example.org>`,
    committer: 'C <c@example.org>',
    message: `change ${n}\n`,
    files: ['src/x.c'],
    when: 1_700_000_000_000 + n,
    via: 'poll',
  };
}

describe.each(DATABASES)('coordinator and changes (%s)', (kind) => {
  let store: Store;
  let clock: ManualClock;
  let events: MasterEventBus;
  let coordinator: Coordinator;
  let changes: Change[];
  const config = parseConfig(parseYaml(CONFIG), 'test.yml', '/tmp');

  beforeEach(async () => {
    store = await openTestStore(kind);
    clock = new ManualClock();
    events = new MasterEventBus((_, error) => {
      throw error;
    });
    coordinator = new Coordinator({ config, store, events, clock, logger: pino({ level: 'silent' }), apiToken: 't' });
    await coordinator.recover();
    changes = await store.recordChanges('proj', [change(1), change(2), change(3)], { main: change(3).revision }, clock.now());
  });
  afterEach(async () => {
    await coordinator.stop();
    await store.close();
  });

  const next = <E extends keyof MasterEvents>(event: E, match?: (p: MasterEvents[E]) => boolean) => events.once(event, match);

  /** Queues one request per change for `builder`, as the on_change scheduler does. */
  async function queueChanges(builder: string) {
    const requests = [];
    for (const c of changes) {
      clock.advance(1000);
      requests.push(
        await coordinator.force({
          builder,
          properties: { revision: c.revision, branch: 'main', source: 'proj', scheduler: 'on-commit' },
          reason: c.message,
          submittedBy: c.author,
          scheduler: 'on-commit',
          collapseKey: 'proj\nmain',
          changeIds: [c.id],
        }),
      );
    }
    return requests;
  }

  async function finishStep(worker: TestWorker, index: number, outcome = ok(), properties: Record<string, string> = {}) {
    const step = await worker.stepStarted((s) => worker.started.indexOf(s) === index);
    const done = next('step:finished', (p) => p.step.id === step.stepId);
    coordinator.stepFinished(worker, step.stepId, 0, outcome, properties);
    await done;
    return step;
  }

  it('collapses queued requests of one branch into one build of the newest revision, blaming every change', async () => {
    const requests = await queueChanges('collapsing');
    const finished = next('build:finished');
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const step = await finishStep(w1, 0);
    expect(step.command.run).toBe(`echo ${changes[2]!.revision}`);
    const { build } = await finished;
    expect(build).toMatchObject({ result: 'SUCCESS', requestId: requests[0]!.id });
    expect(build.properties.revision).toBe(changes[2]!.revision);
    expect((await store.getBlamelist(build.id)).map((c) => c.id)).toEqual(changes.map((c) => c.id));
    for (const r of requests) expect(await store.getRequest(r.id)).toMatchObject({ state: 'complete', buildId: build.id, result: 'SUCCESS' });
    expect(w1.started).toHaveLength(1);
  });

  it('builds every request on its own when the builder says collapse: false', async () => {
    await queueChanges('each');
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    for (let i = 0; i < 3; i++) {
      const finished = next('build:finished');
      await finishStep(w1, i);
      const { build } = await finished;
      expect(build.properties.revision).toBe(changes[i]!.revision);
      expect((await store.getBlamelist(build.id)).map((c) => c.revision)).toEqual([changes[i]!.revision]);
    }
  });

  it('a collapsed build that ends RETRY queues all its requests again, and they are built together again', async () => {
    const requests = await queueChanges('collapsing');
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    await w1.stepStarted();
    const retried = next('build:finished');
    coordinator.detach(w1, 'gone');
    clock.advance(5 * 60_000);
    expect((await retried).requeued).toBe(true);
    expect((await store.listQueuedRequests()).map((r) => r.id)).toEqual(requests.map((r) => r.id));

    const again = next('build:finished', (p) => !p.requeued);
    const back = new TestWorker('w1');
    await coordinator.attach(back, []);
    await finishStep(back, 0);
    const { build } = await again;
    expect(build.number).toBe(2);
    expect((await store.getBlamelist(build.id)).map((c) => c.id)).toEqual(changes.map((c) => c.id));
    expect(await store.listQueuedRequests()).toEqual([]);
  });

  it('a checkout step runs the generated script with the try patch as a file, and got_revision reaches later steps', async () => {
    const patch = await store.addPatch({
      source: 'proj',
      baseRevision: changes[0]!.revision,
      branch: 'main',
      author: 'Tia <tia@example.org>',
      comment: 'try',
      createdAt: clock.now(),
      data: Buffer.from('diff --git a/x b/x\n\xff'),
    });
    const finished = next('build:finished');
    await coordinator.force({
      builder: 'checked-out',
      properties: { revision: changes[0]!.revision, branch: 'main', source: 'proj' },
      reason: 'try',
      submittedBy: 'Tia <tia@example.org>',
      patchId: patch.id,
    });
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);

    const checkout = await finishStep(w1, 0, ok(), { got_revision: changes[0]!.revision });
    expect(checkout.command.run).toContain("git clean -xffd");
    expect(checkout.command.run).toContain(changes[0]!.revision);
    expect(checkout.command.files).toEqual([{ name: 'try.patch', data_base64: Buffer.from('diff --git a/x b/x\n\xff').toString('base64') }]);
    const show = await finishStep(w1, 1);
    expect(show.command.run).toBe(`echo ${changes[0]!.revision}`);

    const { build } = await finished;
    expect(build.properties.got_revision).toBe(changes[0]!.revision);
    const [stored] = await store.getSteps(build.id);
    // The stored command is readable and keeps the password out.
    expect(stored!.command).toEqual(['checkout', 'https://user:***@git.example.org/proj.git', 'main', changes[0]!.revision, '+ try patch']);
  });

  it('a forced build of a checkout builder checks out the head of the source branch', async () => {
    const finished = next('build:finished');
    await coordinator.force({ builder: 'checked-out', properties: {}, reason: 'forced', submittedBy: null });
    const w1 = new TestWorker('w1');
    await coordinator.attach(w1, []);
    const checkout = await finishStep(w1, 0, ok({ exit_code: 1 }));
    expect(checkout.command.files).toBeUndefined();
    const { build } = await finished;
    expect(build.result).toBe('FAILURE');
    expect((await store.getSteps(build.id))[0]!.command).toEqual(['checkout', 'https://user:***@git.example.org/proj.git', 'main', 'HEAD']);
    expect(await store.getBlamelist(build.id)).toEqual([]);
  });
});
