/**
 * The service over a real SQLite store, with JUnit files written to a
 * temporary directory and logs as the worker would have sent them.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/databases.js';
import { parseConfig } from '../config/load.js';
import type { Config, StepConfig } from '../config/schema.js';
import type { Build, Result, Step } from '../domain.js';
import type { Store } from '../store/store.js';
import { TestResultsService, type StepContext } from './test-results-service.js';

const T0 = 1_700_000_000_000;
const X86 = { os: 'linux', arch: 'x86_64' };

const junit = (cases: string) => `<?xml version="1.0"?><testsuites><testsuite name="unit">${cases}</testsuite></testsuites>`;
const PASS_A = '<testcase classname="t.A" name="test_a" time="0.1"/>';
const FAIL_B = '<testcase classname="t.A" name="test_b" time="0.2"><failure message="boom">Traceback\nAssertionError: boom</failure></testcase>';
const PASS_B = '<testcase classname="t.A" name="test_b" time="0.2"/>';

let store: Store;
let dir: string;
let config: Readonly<Config>;
let service: TestResultsService;

beforeEach(async () => {
  store = await openTestStore('sqlite');
  dir = await mkdtemp(join(tmpdir(), 'shepherd-junit-'));
  config = parseConfig(
    {
      master: { quarantine: [{ test: 't.Q.*', reason: 'bpo-99' }] },
      workers: [{ name: 'w1', secret_env: 'W' }],
      builders: [
        { name: 'linux', workers: ['w1'], steps: [{ name: 'test', run: 'make test', test_results: { junit: 'out/*.xml' }, rerun_failed: 'make test TESTS={tests}' }] },
        { name: 'py', workers: ['w1'], steps: [{ name: 'test', run: './python -m test', test_results: { parse: 'regrtest' } }] },
      ],
      platforms: [{ name: 'linux-x86_64', select: X86 }],
    },
    'shepherd.yml',
  );
  service = new TestResultsService({ store, config, clock: { now: () => T0 } });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function startBuild(builder: string, revision = 'abc123'): Promise<{ build: Build; step: Step }> {
  const request = await store.enqueueRequest({ builder, priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 });
  const started = await store.startBuild({ requestId: request.id, builder, worker: 'w1', properties: { got_revision: revision }, steps: ['test'], startedAt: T0 });
  return { build: started!.build, step: started!.steps[0]! };
}

/** A context whose JUnit files are real files in the temp dir (the injected file reader). */
async function context(builder: string, files: Record<string, string>, outcome: { result: Result; summary: string | null; log?: string }, revision?: string): Promise<StepContext> {
  const { build, step } = await startBuild(builder, revision);
  const names = Object.keys(files);
  for (const name of names) await writeFile(join(dir, `${build.id}-${encodeURIComponent(name)}`), files[name]!);
  return {
    build,
    step,
    stepConfig: config.builders.find((b) => b.name === builder)!.steps[0] as StepConfig,
    workerDimensions: X86,
    processResult: outcome.result,
    summary: outcome.summary,
    readLog: async function* () {
      if (outcome.log) yield Buffer.from(outcome.log);
    },
    junitFiles: async () => names.map((name) => ({ name, open: () => createReadStream(join(dir, `${build.id}-${encodeURIComponent(name)}`)) })),
  };
}

describe('TestResultsService', () => {
  it('stores a failing JUnit test, then marks it flaky when it passes at the same revision', async () => {
    const first = await context('linux', { 'out/unit.xml': junit(PASS_A + FAIL_B) }, { result: 'FAILURE', summary: 'exit code 1' });
    const outcome = await service.afterStep(first);
    expect(outcome).toMatchObject({
      result: 'FAILURE',
      summary: '1 failed of 2: t.A.test_b [exit code 1]',
      failedTests: ['t.A.test_b'],
      rerunCommand: 'make test TESTS=t.A.test_b',
      stored: 2,
      flaky: [],
    });
    const listed = await store.listBuildTests(first.build.id, { offset: 0, limit: 10 });
    expect(listed.tests[0]).toMatchObject({ name: 't.A.test_b', result: 'failed', platform: 'linux-x86_64', revision: 'abc123', message: 'Traceback\nAssertionError: boom', durationMs: 200 });

    const second = await context('linux', { 'out/unit.xml': junit(PASS_A + PASS_B) }, { result: 'SUCCESS', summary: null });
    const passed = await service.afterStep(second);
    expect(passed).toMatchObject({ result: 'SUCCESS', summary: '0 failed of 2', flaky: ['t.A.test_b'], rerunCommand: null });
    const history = await store.testHistory('t.A.test_b', { limit: 10 });
    expect(history.map((h) => [h.buildId, h.result, h.flaky])).toEqual([
      [second.build.id, 'passed', true],
      [first.build.id, 'failed', true],
    ]);
    expect((await store.testHistory('t.A.test_a', { limit: 10 })).every((h) => !h.flaky)).toBe(true);

    // At another revision, a failure is not flaky.
    const other = await context('linux', { 'out/unit.xml': junit(FAIL_B) }, { result: 'FAILURE', summary: 'exit code 1' }, 'def456');
    expect((await service.afterStep(other)).flaky).toEqual([]);
  });

  it('makes a step whose failed test passes on re-run WARNINGS and the test flaky', async () => {
    const ctx = await context('linux', { 'out/unit.xml': junit(PASS_A + FAIL_B) }, { result: 'FAILURE', summary: 'exit code 1' });
    const outcome = await service.afterStep(ctx);
    expect(outcome.rerunCommand).toBe('make test TESTS=t.A.test_b');
    await writeFile(join(dir, 'rerun.xml'), junit(PASS_B));
    const rerun: StepContext = { ...ctx, processResult: 'SUCCESS', summary: null, junitFiles: async () => [{ name: 'out/unit.xml', open: () => createReadStream(join(dir, 'rerun.xml')) }] };
    const final = await service.afterRerun(rerun, outcome);
    expect(final).toMatchObject({ result: 'WARNINGS', failedTests: [], flaky: ['t.A.test_b'], summary: '1 failed of 2; all passed on re-run (flaky): t.A.test_b' });
    const rows = await store.listBuildTests(ctx.build.id, { offset: 0, limit: 10 });
    expect(rows.counts).toEqual({ failed: 1, error: 0, skipped: 0, passed: 1 });
    expect(rows.tests.map((t) => [t.name, t.result, t.rerun, t.flaky])).toEqual([
      ['t.A.test_b', 'failed', false, true],
      ['t.A.test_a', 'passed', false, false],
      ['t.A.test_b', 'passed', true, true],
    ]);
  });

  it('applies quarantine from the config and the API', async () => {
    await store.addQuarantine({ test: 't.A.test_b', builders: ['linux'], reason: 'issue 7', addedBy: 'ada', addedAt: T0 });
    const ctx = await context('linux', { 'a.xml': junit(PASS_A + FAIL_B + '<testcase classname="t.Q" name="test_q"><error message="x"/></testcase>') }, { result: 'FAILURE', summary: 'exit code 1' });
    const outcome = await service.afterStep(ctx);
    expect(outcome).toMatchObject({ result: 'WARNINGS', failedTests: [], rerunCommand: null });
    expect(outcome.summary).toBe('2 failed of 3; all quarantined: t.A.test_b (issue 7), t.Q.test_q (bpo-99)');
    expect((await store.listBuildTests(ctx.build.id, { offset: 0, limit: 10 })).quarantined).toBe(2);
  });

  it("parses a step's log (regrtest with its own re-run) and says what could not be read", async () => {
    const log = [
      '0:00:01 load avg: 0.5 [1/2] test_os failed (1 failure)',
      '0:00:02 load avg: 0.5 [2/2/1] test_sys passed',
      '== Tests result: FAILURE ==',
      '0:00:02 load avg: 0.5 Re-running 1 failed tests in verbose mode in subprocesses',
      '0:00:03 load avg: 0.5 [1/1] test_os passed',
      '== Tests result: FAILURE then SUCCESS ==',
    ].join('\n');
    const outcome = await service.afterStep(await context('py', {}, { result: 'SUCCESS', summary: null, log }));
    expect(outcome).toMatchObject({ result: 'WARNINGS', flaky: ['test_os'], summary: '1 failed of 2; all passed on re-run (flaky): test_os', stored: 3 });

    const broken = await service.afterStep(await context('linux', { 'out/bad.xml': '<testsuite><testcase>' }, { result: 'FAILURE', summary: 'exit code 2' }));
    expect(broken).toMatchObject({ result: 'FAILURE', stored: 0 });
    expect(broken.summary).toMatch(/^exit code 2; test results: out\/bad.xml: not well-formed XML/);
    const none = await service.afterStep(await context('linux', {}, { result: 'SUCCESS', summary: null }));
    expect(none.summary).toBe('test results: no JUnit files matched out/*.xml');
  });
});

describe('a test that flips without a code change', () => {
  const FLIP_CONFIG = {
    workers: [{ name: 'w1', secret_env: 'W', dimensions: X86 }],
    builders: [{ name: 'linux', workers: ['w1'], steps: [{ name: 'test', run: 'make test', test_results: { junit: 'out/*.xml' } }] }],
    changes: [{ name: 'src', git: 'https://example.org/src.git', branches: ['main'] }],
    schedulers: [{ name: 'ci', builders: ['linux'], on_change: { ignore: ['Doc/**'] } }],
    platforms: [{ name: 'linux-x86_64', select: X86 }],
  };

  /** A finished build of `linux` at `revision` whose blamelist is one change touching `files`. */
  async function buildWith(revision: string, files: string[], xml: string, result: Result): Promise<Build> {
    const [change] = await store.recordChanges('src', [{ source: 'src', repository: 'https://example.org/src.git', branch: 'main', revision, author: 'A <a@example.org>', committer: 'A <a@example.org>', message: 'm', files, when: T0, via: 'poll' }], { main: revision }, T0);
    const request = await store.enqueueRequest({ builder: 'linux', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0, changeIds: [change!.id] });
    const started = (await store.startBuild({ requestId: request.id, builder: 'linux', worker: 'w1', properties: { got_revision: revision }, steps: ['test'], startedAt: T0 }))!;
    await writeFile(join(dir, `${started.build.id}.xml`), xml);
    await service.afterStep({
      build: started.build,
      step: started.steps[0]!,
      stepConfig: config.builders[0]!.steps[0] as StepConfig,
      workerDimensions: X86,
      processResult: result,
      summary: null,
      readLog: async function* () {},
      junitFiles: async () => [{ name: 'out/unit.xml', open: () => createReadStream(join(dir, `${started.build.id}.xml`)) }],
    });
    await store.finishBuild(started.build.id, { result, summary: null, finishedAt: T0 + 1, requeue: false });
    return started.build;
  }

  beforeEach(() => {
    config = parseConfig(FLIP_CONFIG, 'shepherd.yml');
    service = new TestResultsService({ store, config, clock: { now: () => T0 } });
  });

  it('is flaky when the changes between the builds touched only files the builder ignores', async () => {
    const first = await buildWith('r1', ['src/a.c'], junit(PASS_A + PASS_B), 'SUCCESS');
    const second = await buildWith('r2', ['Doc/howto.rst'], junit(PASS_A + FAIL_B), 'FAILURE');
    const history = await store.testHistory('t.A.test_b', { limit: 10 });
    expect(history.map((h) => [h.buildId, h.result, h.flaky])).toEqual([
      [second.id, 'failed', true],
      [first.id, 'passed', true],
    ]);
    expect((await store.testHistory('t.A.test_a', { limit: 10 })).every((h) => !h.flaky)).toBe(true);
  });

  it('is not flaky when a change between them touched code', async () => {
    await buildWith('r1', ['Doc/a.rst'], junit(PASS_A + PASS_B), 'SUCCESS');
    await buildWith('r2', ['Doc/b.rst', 'src/b.c'], junit(PASS_A + FAIL_B), 'FAILURE');
    expect((await store.testHistory('t.A.test_b', { limit: 10 })).map((h) => h.flaky)).toEqual([false, false]);
  });
});
