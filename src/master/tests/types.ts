/**
 * Per-test results: what a step's test runner said about each test.
 *
 * Glossary
 * - **test result**: one test's outcome in one step: passed, failed (an
 *   assertion), error (the test could not run: setup, crash, import) or
 *   skipped (skipped, expected failures, TODO tests).
 * - **re-run**: the step's `rerun_failed` command, run after a failing step
 *   with only the failed tests; regrtest's own re-run section counts too.
 * - **flaky**: a test that both failed and passed at the same revision on the
 *   same worker or platform, or failed and then passed on re-run.
 * - **quarantine**: known-flaky tests whose failures do not turn a step red
 *   (config `master.quarantine`, a builder's `quarantine`, or the API).
 * - **separation**: the dimension values that every failing worker has and no
 *   passing worker has ("fails only where arch=s390x").
 */

/** One test's outcome. */
export type TestOutcome = 'passed' | 'failed' | 'error' | 'skipped';

/** The outcomes, failures first: the order builds list their tests in. */
export const TEST_OUTCOMES = ['failed', 'error', 'skipped', 'passed'] as const satisfies readonly TestOutcome[];

/** One test's result as a parser read it. */
export interface TestResult {
  /** The test's full name, as its runner names it (`test.test_os.FileTests.test_access`, `tests/test_x.py::test_a`, `test_os`). */
  name: string;
  /** The group it belongs to (JUnit testsuite, unittest class, pytest file, regrtest: null), or null. */
  suite: string | null;
  result: TestOutcome;
  durationMs: number | null;
  /** Failure message and traceback (head and tail kept when long: see `truncateMessage`), or a skip reason. */
  message: string | null;
  /** From a re-run of failed tests (regrtest's own re-run section, or the step's `rerun_failed`). */
  rerun?: boolean;
}

/** What a step may parse its output as (`test_results: { parse: ... }`). */
export const OUTPUT_FORMATS = ['regrtest', 'unittest', 'pytest', 'tap'] as const;
/** One of `OUTPUT_FORMATS`. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Whether an outcome counts as a failure of the test. */
export function isFailure(result: TestOutcome): boolean {
  return result === 'failed' || result === 'error';
}
