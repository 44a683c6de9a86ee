/**
 * pytest's terminal output: verbose lines (`path::Class::test PASSED [ 10%]`,
 * `-v`), the short test summary (`FAILED path::test - AssertionError...`,
 * `-rA` lists passes too), the FAILURES/ERRORS sections holding each
 * traceback under a `____ Class.test ____` header, and `--durations`
 * lines. A test reported twice (passed, then an error at teardown) keeps the
 * worse outcome.
 */
import type { TestOutcome, TestResult } from '../types.js';
import { logLines, truncateMessage } from './text.js';

const WORDS: Record<string, TestOutcome> = {
  PASSED: 'passed',
  FAILED: 'failed',
  ERROR: 'error',
  SKIPPED: 'skipped',
  // An expected failure is not a failure; a non-strict unexpected pass is a pass (strict ones are reported FAILED).
  XFAIL: 'skipped',
  XPASS: 'passed',
};
const WORD = '(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)';
// `tests/test_x.py::TestA::test_one[param] PASSED   [ 10%]` (a worker prefix `[gw0] [ 10%]` with xdist comes first).
const VERBOSE = new RegExp(`^(?:\\[gw\\d+\\]\\s+(?:\\[\\s*\\d+%\\]\\s+)?)?(\\S+::\\S+?)\\s+${WORD}(?:\\s+\\((.*?)\\))?(?:\\s+\\[\\s*\\d+%\\])?\\s*$`);
// xdist writes the word first: `[gw1] [ 50%] PASSED tests/test_x.py::test_a`.
const VERBOSE_XDIST = new RegExp(`^\\[gw\\d+\\]\\s+(?:\\[\\s*\\d+%\\]\\s+)?${WORD}\\s+(\\S+::\\S+)\\s*$`);
// `FAILED tests/test_x.py::test_b - AssertionError: assert 1 == 2`
const SUMMARY = new RegExp(`^${WORD}\\s+(\\S+::\\S+?)(?:\\s+-\\s+(.*))?\\s*$`);
// `SKIPPED [1] tests/test_x.py:12: no network` (a location, not a node id)
const SUMMARY_SKIP = /^SKIPPED \[\d+\] (\S+?):(\d+): (.*)$/;
const SECTION = /^={5,} (FAILURES|ERRORS) ={5,}$/;
const ANY_SECTION = /^={5,} .* ={5,}$/;
const HEADER = /^_{3,} (.+?) _{3,}$/;
const DURATION = /^(\d+(?:\.\d+)?)s (setup|call|teardown)\s+(\S+::\S+)\s*$/;

/** The tests of pytest's output, in the order first seen. */
export function parsePytest(text: string): TestResult[] {
  const lines = logLines(text);
  const tests = new Map<string, TestResult>();
  const durations = new Map<string, number>();
  const put = (id: string, result: TestOutcome, message: string | null) => {
    const previous = tests.get(id);
    if (previous && rank(previous.result) > rank(result)) return;
    const keep = previous && previous.result === result ? previous.message : null;
    tests.set(id, { name: id, suite: suiteOf(id), result, durationMs: null, message: truncateMessage(message ?? keep) });
  };
  for (const line of lines) {
    const trimmed = line.trimEnd();
    const verbose = VERBOSE.exec(trimmed);
    if (verbose) {
      put(verbose[1]!, WORDS[verbose[2]!]!, verbose[3] ?? null);
      continue;
    }
    const xdist = VERBOSE_XDIST.exec(trimmed);
    if (xdist) {
      put(xdist[2]!, WORDS[xdist[1]!]!, null);
      continue;
    }
    const summary = SUMMARY.exec(trimmed);
    if (summary) {
      put(summary[2]!, WORDS[summary[1]!]!, summary[3] ?? null);
      continue;
    }
    const duration = DURATION.exec(trimmed);
    if (duration) durations.set(duration[3]!, (durations.get(duration[3]!) ?? 0) + Number(duration[1]) * 1000);
  }
  attachTracebacks(lines, tests);
  for (const [id, ms] of durations) {
    const test = tests.get(id);
    if (test) test.durationMs = Math.round(ms);
  }
  return [...tests.values()];
}

/** The file a node id belongs to: `tests/test_x.py::TestA::test_one` → `tests/test_x.py`. */
function suiteOf(id: string): string | null {
  const at = id.indexOf('::');
  return at > 0 ? id.slice(0, at) : null;
}

function rank(result: TestOutcome): number {
  return { passed: 0, skipped: 1, failed: 2, error: 3 }[result];
}

/**
 * The traceback under each `____ TestA.test_one ____` header of the FAILURES
 * and ERRORS sections, matched to the failed test whose node id (its `::`
 * parts after the file, joined by dots) ends with the header's name.
 * `ERROR at setup of test_c` headers name the test after "of".
 */
function attachTracebacks(lines: readonly string[], tests: Map<string, TestResult>): void {
  const failing = [...tests.values()].filter((t) => t.result === 'failed' || t.result === 'error');
  if (failing.length === 0) return;
  let inSection = false;
  let header: string | null = null;
  let body: string[] = [];
  const flush = () => {
    if (header === null) return;
    const name = header.replace(/^ERROR (?:at|collecting) (?:setup|teardown|call)? ?(?:of )?/, '');
    const dotted = (t: TestResult) => t.name.split('::').slice(1).join('.');
    const test = failing.find((t) => dotted(t) === name) ?? failing.find((t) => dotted(t).endsWith(`.${name}`) || t.name === name);
    if (test) test.message = truncateMessage([body.join('\n').trim(), test.message].filter(Boolean).join('\n'));
    header = null;
    body = [];
  };
  for (const line of lines) {
    if (SECTION.test(line)) {
      flush();
      inSection = true;
      continue;
    }
    if (ANY_SECTION.test(line)) {
      flush();
      inSection = false;
      continue;
    }
    if (!inSection) continue;
    const head = HEADER.exec(line);
    if (head) {
      flush();
      header = head[1]!;
      continue;
    }
    if (header !== null) body.push(line);
  }
  flush();
}
