/**
 * Gathering what a notification says from the store: the builder's previous
 * counted build (for the transition), the failing step and the end of its
 * log, the blamelist and a try build's patch.
 */
import type { Build, BuildRequest, Step } from '../domain.js';
import type { Store } from '../store/store.js';
import type { Dimensions } from '../tests/separation.js';
import { separateWorkers } from '../tests/worker-separation.js';
import { countsForTransitions } from './decide.js';
import { type BuildReport, buildUrl, type FailedTests, isFailure, logTail, MAIL_FAILED_TESTS, MAIL_LOG_LINES, revisionOf } from './messages.js';

/** Builds fetched per page when looking back for the previous counted build. */
const LOOK_BACK_PAGE = 25;
/** Builds looked at, at most; past that the builder's state is taken as passing. */
const LOOK_BACK_LIMIT = 500;
/** Bytes read from the end of a failing step's log: plenty for 40 lines of a sane log, bounded for an insane one. */
const LOG_TAIL_BYTES = 64 * 1024;

/**
 * The previous finished build of the same builder that counts for
 * transitions (not a try build, not RETRY or CANCELLED); undefined when
 * there is none.
 */
export async function previousCountedBuild(store: Store, build: Pick<Build, 'id' | 'builder'>): Promise<Build | undefined> {
  let beforeId = build.id;
  for (let seen = 0; seen < LOOK_BACK_LIMIT; seen += LOOK_BACK_PAGE) {
    const page = await store.listBuilds({ builder: build.builder, state: 'finished', beforeId, limit: LOOK_BACK_PAGE });
    for (const candidate of page) {
      if (!countsForTransitions(candidate, false)) continue;
      const request = await store.getRequest(candidate.requestId);
      if (countsForTransitions(candidate, request?.patchId != null)) return candidate;
    }
    if (page.length < LOOK_BACK_PAGE) return undefined;
    beforeId = page.at(-1)!.id;
  }
  return undefined;
}

/** The first step that failed, in the builder's order. */
export function failingStepOf(steps: readonly Step[]): Step | undefined {
  return [...steps].sort((a, b) => a.index - b.index).find((s) => s.result === 'FAILURE' || s.result === 'EXCEPTION');
}

/** The last lines of a step's log, read from its end only. */
export async function readLogTail(store: Store, step: Pick<Step, 'id' | 'logBytes'>, lines = MAIL_LOG_LINES): Promise<string> {
  const start = Math.max(0, step.logBytes - LOG_TAIL_BYTES);
  const chunks: Buffer[] = [];
  for await (const chunk of store.readLog(step.id, start)) chunks.push(chunk);
  let text = Buffer.concat(chunks).toString('utf8');
  // Reading from the middle of the log: the first line is cut, drop it.
  if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  return logTail(text, lines);
}

/** Rows of failures read to find MAIL_FAILED_TESTS distinct ones (re-run rows follow each failure). */
const FAILURE_ROWS = 100;

/**
 * A red build's tests for the mail: the counts, the first failures with
 * the first line of their message, and for each one that passed on other
 * workers at the same revision, what separates those workers. Null when the
 * build stored no test results.
 */
export async function loadFailedTests(
  store: Store,
  build: Pick<Build, 'id'>,
  revision: string | null,
  workerDimensions: () => Promise<ReadonlyMap<string, Dimensions>>,
): Promise<FailedTests | null> {
  const page = await store.listBuildTests(build.id, { offset: 0, limit: FAILURE_ROWS, failuresOnly: true });
  if (page.total === 0) return null;
  const first = new Map<string, string | null>();
  for (const test of page.tests) {
    if (test.rerun || first.has(test.name)) continue;
    if (first.size === MAIL_FAILED_TESTS) break;
    first.set(test.name, test.message === null ? null : test.message.trim().split('\n', 1)[0]!.trim() || null);
  }
  const outcomes = revision === null || first.size === 0 ? [] : await store.testOutcomesAtRevision(revision, { names: [...first.keys()] });
  const dimensions = outcomes.some((r) => r.result === 'passed') ? await workerDimensions() : new Map<string, Dimensions>();
  return {
    failed: page.counts.failed + page.counts.error,
    total: page.total,
    failures: [...first].map(([name, message]) => {
      const separation = separateWorkers(outcomes.filter((r) => r.name === name), dimensions);
      return { name, message, separation: separation.sentence, passedOn: separation.passingWorkers };
    }),
  };
}

/** Everything notifications say about a finished build. */
export async function loadBuildReport(
  store: Store,
  input: {
    build: Build;
    request: BuildRequest;
    transition: BuildReport['transition'];
    publicUrl: string;
    /** Every worker's dimensions, for what separates where a failed test fails (default: none known). */
    workerDimensions?: () => Promise<ReadonlyMap<string, Dimensions>>;
  },
): Promise<BuildReport> {
  const { build, request } = input;
  const isTry = request.patchId !== null;
  const [steps, blamelist, patch] = await Promise.all([
    store.getSteps(build.id),
    store.getBlamelist(build.id),
    isTry ? store.getPatch(request.patchId!) : Promise.resolve(undefined),
  ]);
  const failing = failingStepOf(steps);
  const revision = revisionOf(build, blamelist);
  const tests = isFailure({ build }) ? await loadFailedTests(store, build, revision, input.workerDimensions ?? (async () => new Map())) : null;
  return {
    build,
    transition: input.transition,
    isTry,
    revision,
    branch: build.properties.branch || blamelist.at(-1)?.branch || patch?.branch || null,
    failingStep: failing ? { name: failing.name, result: failing.result!, logTail: await readLogTail(store, failing) } : null,
    blamelist,
    patch: patch ? { author: patch.author, comment: patch.comment } : null,
    url: buildUrl(input.publicUrl, build.id),
    tests,
  };
}
