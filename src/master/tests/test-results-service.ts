/**
 * The I/O shell around per-test results: after a step with `test_results`
 * finishes (and before its result is recorded) it reads the JUnit files the
 * worker sent or the step's log, parses them, decides the step's result with
 * its tests (quarantine, re-runs), stores one row per test and marks tests
 * flaky against earlier results at the same revision. The coordinator calls
 * `afterStep`, runs `rerunCommand` when there is one, and hands that run to
 * `afterRerun`. Reading or parsing problems never fail a step: they are
 * said in its summary and the process's result stands.
 */
import type { Clock } from '../clock.js';
import { formatSize } from '../config/units.js';
import { changeFilter } from '../schedulers/on-change.js';
import type { Config, StepConfig } from '../config/schema.js';
import type { Build, Result, Step } from '../domain.js';
import type { NewTestResult, Store } from '../store/store.js';
import { codeChanged, flakyTests, flipsWithoutCodeChange } from './flaky.js';
import { JunitError, parseJunit, parseOutput } from './parsers/index.js';
import { testPlatform } from './platform.js';
import type { QuarantineEntry } from './quarantine.js';
import { rerunCommand } from './rerun.js';
import { stepResultWithTests, type StepTestsDecision } from './step-result.js';
import { isFailure, type TestResult } from './types.js';

/** A JUnit file the worker sent back (helper U's stored files provide these). */
export interface JunitFile {
  /** Its path relative to the step's workdir, for messages. */
  name: string;
  open(): NodeJS.ReadableStream | Promise<Buffer>;
}

/** A finished step, as the coordinator knows it before recording its result. */
export interface StepContext {
  build: Build;
  step: Step;
  stepConfig: StepConfig;
  /** The dimensions of the worker that ran it. */
  workerDimensions: Readonly<Record<string, string>>;
  /** The result from the process alone (`stepResultFromOutcome`). */
  processResult: Result;
  summary: string | null;
  /** The step's stored log. */
  readLog(): AsyncIterable<Buffer>;
  /** The step's files of kind `test_results`. */
  junitFiles(): Promise<JunitFile[]>;
}

/** What `afterStep` decided; pass it back to `afterRerun` if the re-run runs. */
export interface StepTestsOutcome {
  result: Result;
  summary: string | null;
  /** Failed tests, not quarantined, not passed on a re-run of regrtest's own. */
  failedTests: string[];
  /** Tests found flaky: passed on re-run, or against earlier results at this revision. */
  flaky: string[];
  /** The `rerun_failed` command to run now (FAILURE with failed tests), or null. */
  rerunCommand: string | null;
  /** How many tests were stored. */
  stored: number;
  /** For `afterRerun`: what was parsed and stored, and how the process ended. */
  readonly tests: readonly TestResult[];
  readonly ids: readonly number[];
  readonly processResult: Result;
  readonly processSummary: string | null;
}

/** What the service needs. */
export interface TestResultsDeps {
  store: Pick<Store, 'addTestResults' | 'testOutcomesAtRevision' | 'markTestsFlaky' | 'listQuarantine' | 'listBuilds' | 'getBlamelist'>;
  config: Readonly<Config>;
  clock: Pick<Clock, 'now'>;
  /** Largest log or JUnit file read, in bytes (default 128 MiB): past it the rest is not parsed. */
  maxBytes?: number;
}

/** More failed tests than this are not re-run: the command line would be huge, and so many failures are not flakes. */
export const MAX_RERUN_TESTS = 500;

/** The revision a build built: `got_revision` once checked out, else the one requested (null: none). */
function revisionOf(build: Build): string | null {
  return build.properties.got_revision || build.properties.revision || null;
}

/** Per-test results: parse, decide, store, mark flaky. */
export class TestResultsService {
  readonly #deps: TestResultsDeps;

  constructor(deps: TestResultsDeps) {
    this.#deps = deps;
  }

  /** Handles a finished step; a step without `test_results` comes back unchanged. */
  async afterStep(context: StepContext): Promise<StepTestsOutcome> {
    const unchanged = this.#unchanged(context);
    const spec = context.stepConfig.test_results;
    if (!spec) return unchanged;
    const { tests, problems } = await this.#read(context);
    const quarantine = await this.#quarantine(context.build.builder);
    const decision = stepResultWithTests({
      processResult: context.processResult,
      processSummary: context.summary,
      tests,
      builder: context.build.builder,
      quarantine,
    });
    const ids = await this.#store(context, tests, decision, false);
    const flaky = new Set(decision.flaky);
    for (const name of await this.#markFlakyAtRevision(context.build, tests)) flaky.add(name);
    for (const name of await this.#markFlipsWithoutCodeChange(context.build, tests)) flaky.add(name);
    const template = context.stepConfig.rerun_failed;
    const rerun =
      template && decision.result === 'FAILURE' && decision.failedTests.length > 0 && decision.failedTests.length <= MAX_RERUN_TESTS
        ? rerunCommand(template, decision.failedTests)
        : null;
    return {
      result: decision.result,
      summary: withProblems(decision.summary, problems),
      failedTests: decision.failedTests,
      flaky: [...flaky],
      rerunCommand: rerun,
      stored: ids.length,
      tests,
      ids,
      processResult: context.processResult,
      processSummary: context.summary,
    };
  }

  /**
   * Handles the `rerun_failed` run of a step: `context` is the re-run (its
   * log or JUnit files, its step row if it has one of its own, else the
   * original's), `original` what `afterStep` returned. Stores the re-run's
   * results (`rerun`), marks tests that failed and then passed flaky (both
   * rows), and returns the original step's final result: WARNINGS when every
   * remaining failure passed on re-run.
   */
  async afterRerun(context: StepContext, original: StepTestsOutcome): Promise<StepTestsOutcome> {
    const { tests: rerunTests, problems } = await this.#read(context);
    const quarantine = await this.#quarantine(context.build.builder);
    const decision = stepResultWithTests({
      processResult: original.processResult,
      processSummary: original.processSummary,
      tests: original.tests,
      rerun: rerunTests,
      builder: context.build.builder,
      quarantine,
    });
    const rerunIds = await this.#store(context, rerunTests.map((t) => ({ ...t, rerun: true })), decision, true);
    const flaky = new Set(decision.flaky);
    const originalIds = original.tests.flatMap((test, i) => (flaky.has(test.name) && !test.rerun ? [original.ids[i]!] : []));
    if (originalIds.length > 0) await this.#deps.store.markTestsFlaky(originalIds);
    for (const name of original.flaky) flaky.add(name);
    return {
      ...original,
      result: decision.result,
      summary: withProblems(decision.summary, problems),
      failedTests: decision.failedTests,
      flaky: [...flaky],
      rerunCommand: null,
      stored: original.stored + rerunIds.length,
    };
  }

  #unchanged(context: StepContext): StepTestsOutcome {
    return {
      result: context.processResult,
      summary: context.summary,
      failedTests: [],
      flaky: [],
      rerunCommand: null,
      stored: 0,
      tests: [],
      ids: [],
      processResult: context.processResult,
      processSummary: context.summary,
    };
  }

  /** The step's tests, and what could not be read (said in the summary). */
  async #read(context: StepContext): Promise<{ tests: TestResult[]; problems: string[] }> {
    const spec = context.stepConfig.test_results;
    const limit = this.#deps.maxBytes ?? 128 * 1024 * 1024;
    const problems: string[] = [];
    if (!spec) return { tests: [], problems };
    try {
      if (spec.parse) {
        const text = await readCapped(context.readLog(), limit);
        if (text.truncated) problems.push(`only the first ${formatSize(limit)} of the log were read for test results`);
        return { tests: parseOutput(spec.parse, text.text), problems };
      }
      const files = await context.junitFiles();
      if (files.length === 0) problems.push(`no JUnit files matched ${[spec.junit ?? []].flat().join(', ')}`);
      const tests: TestResult[] = [];
      for (const file of files) {
        try {
          const opened = await file.open();
          const text = Buffer.isBuffer(opened) ? { text: opened.toString('utf8'), truncated: opened.length > limit } : await readCapped(opened, limit);
          if (text.truncated) throw new JunitError(`larger than ${formatSize(limit)}`);
          tests.push(...parseJunit(text.text));
        } catch (error) {
          problems.push(`${file.name}: ${(error as Error).message}`);
        }
      }
      return { tests, problems };
    } catch (error) {
      problems.push(`test results could not be read: ${(error as Error).message}`);
      return { tests: [], problems };
    }
  }

  /** The config's entries (the master's, then the builder's) and the API's. */
  async #quarantine(builder: string): Promise<QuarantineEntry[]> {
    const { config } = this.#deps;
    const builderEntries = config.builders.find((b) => b.name === builder)?.quarantine ?? [];
    const stored = await this.#deps.store.listQuarantine();
    return [
      ...config.master.quarantine.map((e) => ({ ...e, source: 'config' as const })),
      ...builderEntries.map((e) => ({ ...e, builders: [builder], source: 'config' as const })),
      ...stored.map((e) => ({ test: e.test, builders: e.builders, reason: e.reason, source: 'api' as const, id: e.id })),
    ];
  }

  /** Stores the tests as rows of this step; quarantined failures and tests that passed on re-run are marked. */
  async #store(context: StepContext, tests: readonly TestResult[], decision: StepTestsDecision, rerun: boolean): Promise<number[]> {
    const quarantined = new Set(decision.quarantined.map((q) => q.name));
    const flaky = new Set(decision.flaky);
    const revision = revisionOf(context.build);
    const platform = testPlatform(this.#deps.config.platforms, context.workerDimensions);
    const at = this.#deps.clock.now();
    const rows: NewTestResult[] = tests.map((test) => ({
      buildId: context.build.id,
      stepId: context.step.id,
      builder: context.build.builder,
      worker: context.build.worker,
      platform,
      revision,
      name: test.name,
      suite: test.suite,
      result: test.result,
      durationMs: test.durationMs,
      message: test.message,
      flaky: flaky.has(test.name) && (isFailure(test.result) || test.rerun === true || rerun),
      rerun: rerun || test.rerun === true,
      quarantined: isFailure(test.result) && quarantined.has(test.name),
      at,
    }));
    return this.#deps.store.addTestResults(rows);
  }

  /**
   * Marks flaky the results at this build's revision that pair a failure
   * with a pass (`flakyTests`), reading only what can pair with this step:
   * its failures against any result, and its passes against earlier failures.
   * Returns the names of this step's tests found flaky.
   */
  async #markFlakyAtRevision(build: Build, tests: readonly TestResult[]): Promise<string[]> {
    const revision = revisionOf(build);
    if (revision === null || tests.length === 0) return [];
    const { store } = this.#deps;
    const failedHere = new Set(tests.filter((t) => isFailure(t.result)).map((t) => t.name));
    const passedHere = new Set(tests.filter((t) => t.result === 'passed').map((t) => t.name));
    const failedBefore = await store.testOutcomesAtRevision(revision, { failuresOnly: true });
    const names = new Set(failedHere);
    for (const run of failedBefore) if (passedHere.has(run.name)) names.add(run.name);
    if (names.size === 0) return [];
    const runs = await store.testOutcomesAtRevision(revision, { names: [...names] });
    const found = flakyTests(runs);
    const unmarked = new Set(runs.filter((r) => !r.flaky).map((r) => r.id));
    const ids = found.flatMap((f) => f.ids).filter((id) => unmarked.has(id));
    if (ids.length > 0) await store.markTestsFlaky(ids);
    return found.map((f) => f.name);
  }

  /**
   * Marks flaky the tests that flipped since the builder's previous build
   * (at another revision, on the same platform) when the changes this build
   * brought touched no file the builder's on_change schedulers count
   * (`flipsWithoutCodeChange`). Reads the previous build, this build's
   * blamelist and the two builds' results of the tests that can have flipped.
   */
  async #markFlipsWithoutCodeChange(build: Build, tests: readonly TestResult[]): Promise<string[]> {
    const revision = revisionOf(build);
    const { store, config } = this.#deps;
    const important = config.schedulers
      .filter((s) => s.on_change !== undefined && s.builders.includes(build.builder))
      .map((s) => changeFilter(s.on_change!).important);
    if (revision === null || tests.length === 0 || important.length === 0) return [];
    const [previous] = await store.listBuilds({ builder: build.builder, state: 'finished', beforeId: build.id, limit: 1 });
    const before = previous ? revisionOf(previous) : null;
    if (!previous || before === null || before === revision) return [];
    if (codeChanged(await store.getBlamelist(build.id), important)) return [];
    const names = tests.filter((t) => t.result !== 'skipped').map((t) => t.name);
    const [earlier, now] = await Promise.all([
      store.testOutcomesAtRevision(before, { names }),
      store.testOutcomesAtRevision(revision, { names }),
    ]);
    const found = flipsWithoutCodeChange(
      earlier.filter((r) => r.buildId === previous.id),
      now.filter((r) => r.buildId === build.id),
      false,
    );
    const ids = found.flatMap((f) => f.ids);
    if (ids.length > 0) await store.markTestsFlaky(ids);
    return found.map((f) => f.name);
  }
}

/** The summary with reading problems after it (the first three). */
function withProblems(summary: string | null, problems: readonly string[]): string | null {
  if (problems.length === 0) return summary;
  const more = problems.length > 3 ? ` and ${problems.length - 3} more problems` : '';
  const text = `test results: ${problems.slice(0, 3).join('; ')}${more}`;
  return summary ? `${summary}; ${text}` : text;
}

/** Reads a stream of byte chunks as UTF-8, up to `limit` bytes. */
async function readCapped(source: AsyncIterable<Buffer | string | Uint8Array> | NodeJS.ReadableStream, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of source as AsyncIterable<Buffer | string | Uint8Array>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    if (size + buffer.length > limit) {
      chunks.push(buffer.subarray(0, limit - size));
      truncated = true;
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}


export { rerunCommand } from './rerun.js';
