/**
 * CPython's regression test runner (`python -m test`, `make test`), as of
 * 3.13: one result per test *file* (`test_os`), from the progress lines
 * (`0:00:01 load avg: 1.23 [ 12/480/1] test_os failed (2 failures)`), the
 * `test test_os failed` lines of sequential runs, and the summary lists
 * (`2 tests failed:` followed by indented names) after `== Tests result:
 * FAILURE ==`. Tests re-run by regrtest itself ("Re-running 2 failed tests
 * in verbose mode") are returned a second time with `rerun: true`; their
 * verbose unittest output supplies the tracebacks.
 */
import type { TestOutcome, TestResult } from '../types.js';
import { logLines, truncateMessage } from './text.js';
import { failureSections } from './unittest.js';

// [elapsed] [load avg] [N/M(/F)] NAME TEXT
const PROGRESS = /^(?:\d+:\d\d:\d\d\s+)?(?:load avg: [\d.]+\s+)?\[\s*\d+\/\d+(?:\/\d+)?\]\s+(?:RERUN\s+)?(test[\w.]*)(?:\s+(.*))?$/;
const SEQUENTIAL_FAILED = /^test (test[\w.]*) failed\b(?: -- (.*))?/;
const SKIPPED_LINE = /^(test[\w.]*) skipped(?: \(resource denied\))?(?: -- (.*))?$/;
const RESULT_LINE = /^== Tests result: /;
const RERUN_START = /Re-running (?:\d+ )?failed tests? in verbose mode/;
const LIST_HEAD = /^(\d+|All \d+) (tests?|re-run tests?) (failed|skipped|skipped \(resource denied\)|altered the execution environment(?: \(env changed\))?|failed again|run no tests|omitted|re-run tests?|OK\.?):?$/;

interface State {
  result: TestOutcome;
  durationMs: number | null;
  message: string | null;
}

/** The test files of a regrtest run; re-run ones appear twice, the second time with `rerun: true`. */
export function parseRegrtest(text: string): TestResult[] {
  const lines = logLines(text);
  const first = new Map<string, State>();
  const again = new Map<string, State>();
  let rerunFrom = -1;
  // Sequential runs announce each test and name only those that did not pass: a test announced
  // and never reported passed, once the run reached its result.
  const announced = new Set<string>();
  let finished = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (RERUN_START.test(line)) {
      if (rerunFrom < 0) rerunFrom = i;
      continue;
    }
    const target = rerunFrom >= 0 ? again : first;
    const progress = PROGRESS.exec(line);
    if (progress) {
      const text = progress[2] ?? '';
      // Sequential runs announce the next test and say how the previous one ended: `[ 3/400] test_poll -- test_os failed`.
      const previous = /^-- (test[\w.]*) (.*)$/.exec(text);
      const state = progressOutcome(previous ? previous[2]! : text);
      if (state) set(target, previous ? previous[1]! : progress[1]!, state);
      if (rerunFrom < 0 && (previous || text === '')) announced.add(progress[1]!);
      continue;
    }
    if (RESULT_LINE.test(line)) {
      finished = true;
      continue;
    }
    const skipped = SKIPPED_LINE.exec(line);
    if (skipped) {
      set(target, skipped[1]!, { result: 'skipped', durationMs: null, message: skipped[2] ?? null });
      continue;
    }
    const failed = SEQUENTIAL_FAILED.exec(line);
    if (failed) {
      // `test test_x failed -- Traceback (most recent call last):` runs on until a blank or progress line.
      const message = failed[2] === undefined ? [] : [failed[2]];
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== '' && !PROGRESS.test(lines[i + 1]!)) message.push(lines[++i]!);
      set(target, failed[1]!, { result: 'failed', durationMs: null, message: message.join('\n') || null });
      continue;
    }
    const head = LIST_HEAD.exec(line.trim());
    // After a re-run, the summary lists again every test skipped in the first pass: only re-run tests count there.
    if (head) i = summaryList(lines, i, head[3]!, target, rerunFrom >= 0 ? (name) => first.has(name) && isFailed(first.get(name)!) : () => true);
  }

  if (finished) {
    for (const name of announced) if (!first.has(name)) first.set(name, { result: 'passed', durationMs: null, message: null });
  }

  // Tracebacks from unittest's FAIL:/ERROR: sections, by test file, from the re-run when there is one.
  const tracebacks = new Map<string, string[]>();
  const sections = [...failureSections(rerunFrom >= 0 ? lines.slice(rerunFrom) : lines), ...(rerunFrom >= 0 ? failureSections(lines.slice(0, rerunFrom)) : [])];
  for (const [id, section] of sections) {
    const file = testFileOf(id);
    if (!file) continue;
    const list = tracebacks.get(file) ?? [];
    if (list.length < 20) list.push(section.text);
    tracebacks.set(file, list);
  }
  const results: TestResult[] = [];
  const emit = (name: string, state: State, rerun: boolean) => {
    const failed = state.result === 'failed' || state.result === 'error';
    const traceback = failed ? tracebacks.get(name)?.join('\n\n') : undefined;
    const message = [state.message, traceback].filter(Boolean).join('\n');
    results.push({ name, suite: null, result: state.result, durationMs: state.durationMs, message: truncateMessage(message), ...(rerun ? { rerun: true } : {}) });
  };
  for (const [name, state] of first) emit(name, state, false);
  for (const [name, state] of again) emit(name, state, true);
  return results;
}

/**
 * What a progress line says after the test name: `failed (2 failures) (31.5 sec) -- running (1): test_x (30 sec)`.
 * Undefined when it only announces the test (sequential mode, where the previous test's result follows ` -- `).
 */
function progressOutcome(text: string): State | undefined {
  const match = /^(passed|failed|skipped|timed out|interrupted|ran no tests|worker non-zero exit code|worker bug|crashed)\b(.*)$/.exec(text);
  if (!match) return undefined;
  const word = match[1]!;
  let rest = match[2]!;
  let after: string | null = null;
  const dashes = rest.indexOf(' -- ');
  if (dashes >= 0) {
    after = rest.slice(dashes + 4).trim();
    rest = rest.slice(0, dashes);
    // The parallel runner appends the tests still running: not about this one.
    if (after.startsWith('running')) after = null;
  }
  let durationMs: number | null = null;
  const notes: string[] = [];
  for (const group of rest.matchAll(/\(([^)]*)\)/g)) {
    const duration = durationOf(group[1]!);
    if (duration !== null) durationMs = duration;
    else notes.push(group[1]!);
  }
  const message = [...notes, ...(after ? [after] : [])].join(' -- ') || null;
  switch (word) {
    case 'passed':
      return { result: 'passed', durationMs, message: null };
    case 'failed':
      return { result: 'failed', durationMs, message: message ?? 'failed' };
    case 'skipped':
    case 'ran no tests':
      return { result: 'skipped', durationMs, message: message ?? (word === 'ran no tests' ? 'ran no tests' : null) };
    default:
      return { result: 'error', durationMs, message: [word, message].filter(Boolean).join(': ') };
  }
}

/** Milliseconds from regrtest's `format_duration` ("31.5 sec", "1 min 3 sec", "2 hour 1 min", "450 ms"), else null. */
export function durationOf(text: string): number | null {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?) (hour|min|sec|ms)\b/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join(' ') !== text.trim()) return null;
  const unit = { hour: 3_600_000, min: 60_000, sec: 1000, ms: 1 } as const;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0));
}

/** Reads the indented names under a summary heading into `target`; returns the last line read. */
function summaryList(lines: readonly string[], at: number, kind: string, target: Map<string, State>, counts: (name: string) => boolean): number {
  let i = at + 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (!/^\s+\S/.test(line)) break;
    for (const name of line.trim().split(/\s+/)) {
      if (!/^test[\w.]*$/.test(name) || !counts(name)) continue;
      if (kind.startsWith('failed')) setWorse(target, name, { result: 'failed', durationMs: null, message: 'failed' });
      else if (kind.startsWith('altered')) setWorse(target, name, { result: 'failed', durationMs: null, message: 'env changed' });
      else if (kind.startsWith('skipped') || kind === 'run no tests') {
        setWorse(target, name, { result: 'skipped', durationMs: null, message: kind === 'skipped' ? null : kind });
      }
      // "re-run tests" and "omitted" say nothing of the outcome.
    }
  }
  return i - 1;
}

function isFailed(state: State): boolean {
  return state.result === 'failed' || state.result === 'error';
}

/** A progress line is the newest word on a test (a test file runs once per pass). */
function set(target: Map<string, State>, name: string, state: State): void {
  const previous = target.get(name);
  // Two lines about one failure (`test test_x failed -- Traceback...`, then `test_x failed (1 failure)`) both count.
  const messages = [state.message, isFailed(state) && previous && isFailed(previous) ? previous.message : null];
  const message = [...new Set(messages.filter((m): m is string => Boolean(m)))].join('\n') || (previous?.message ?? null);
  target.set(name, { ...state, durationMs: state.durationMs ?? previous?.durationMs ?? null, message });
}

/** A summary list never undoes a failure it did not see (its lists come after the progress lines). */
function setWorse(target: Map<string, State>, name: string, state: State): void {
  const previous = target.get(name);
  if (previous && (previous.result === 'failed' || previous.result === 'error')) return;
  if (previous && previous.result === state.result) return;
  set(target, name, state);
}

/** The test file a unittest id belongs to: `test.test_os.FileTests.test_x` → `test_os`. */
function testFileOf(id: string): string | undefined {
  const parts = id.split('.');
  if (parts[0] === 'test' && parts.length > 1) return parts[1];
  return parts.find((p) => p.startsWith('test_'));
}
