/**
 * Python unittest's verbose output (`python -m unittest -v`): one line per
 * test, `test_a (mod.Class.test_a) ... ok|FAIL|ERROR|skipped 'why'`, then
 * a `FAIL:`/`ERROR:` section per failure holding its traceback. Python 3.11+
 * writes the full test id in the parentheses; older ones wrote the class
 * only (`test_a (mod.Class)`): both give the id `mod.Class.test_a`.
 */
import type { TestOutcome, TestResult } from '../types.js';
import { logLines, truncateMessage } from './text.js';

// `name (id)` then ` ... result`, the id's parameters (subtests) or nothing (a docstring line follows).
const TEST_LINE = /^\s*(\w+) \(([\w.]+)\)(.*)$/;
const SECTION_HEAD = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (\w+) \(([\w.]+)\)/;
const DOUBLE_RULE = /^={20,}$/;
const SINGLE_RULE = /^-{20,}$/;

/** The tests of unittest verbose output, in the order they ran. */
export function parseUnittest(text: string): TestResult[] {
  return unittestResults(logLines(text));
}

/** unittest results from lines already cleaned (shared with regrtest, whose verbose re-runs are unittest output). */
export function unittestResults(lines: readonly string[]): TestResult[] {
  const tracebacks = failureSections(lines);
  const byId = new Map<string, TestResult>();
  let pending: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = TEST_LINE.exec(line);
    if (match && !SECTION_HEAD.test(line)) {
      const id = testId(match[1]!, match[2]!);
      let rest = match[3]!;
      // Python writes the docstring's first line on the next line, then " ... result".
      if (!rest.includes(' ... ') && !rest.endsWith(' ...') && i + 1 < lines.length && / \.\.\.( |$)/.test(lines[i + 1]!)) {
        rest = lines[++i]!;
      }
      const at = rest.indexOf(' ... ');
      const word = at >= 0 ? rest.slice(at + 5) : rest.endsWith(' ...') ? '' : null;
      if (word === null) continue;
      const outcome = outcomeOf(word);
      if (outcome) record(byId, id, outcome, tracebacks);
      else pending = id;
      continue;
    }
    // The test wrote output after " ... ": its result comes on a line of its own.
    if (pending !== null) {
      const outcome = outcomeOf(line.trim());
      if (outcome) {
        record(byId, pending, outcome, tracebacks);
        pending = null;
      }
    }
  }
  // A failure section whose test line was lost (output interleaved): still a failure.
  for (const [id, section] of tracebacks) {
    if (!byId.has(id)) record(byId, id, { result: section.kind === 'ERROR' ? 'error' : 'failed', reason: null }, tracebacks);
  }
  return [...byId.values()];
}

/** `mod.Class.test_a` from the test's method name and what the parentheses hold. */
function testId(method: string, inParens: string): string {
  return inParens === method || inParens.endsWith(`.${method}`) ? inParens : `${inParens}.${method}`;
}

/** A verbose result word: ok, FAIL, ERROR, skipped 'why', expected failure, unexpected success. */
function outcomeOf(word: string): { result: TestOutcome; reason: string | null } | undefined {
  if (word === 'ok') return { result: 'passed', reason: null };
  if (word === 'FAIL') return { result: 'failed', reason: null };
  if (word === 'ERROR') return { result: 'error', reason: null };
  if (word === 'unexpected success') return { result: 'failed', reason: 'unexpected success' };
  if (word === 'expected failure') return { result: 'skipped', reason: 'expected failure' };
  const skipped = /^skipped(?: (.*))?$/.exec(word);
  if (skipped) return { result: 'skipped', reason: skipped[1]?.replace(/^'(.*)'$/s, '$1') ?? null };
  return undefined;
}

/** Records a test's outcome; a subtest that failed makes the whole test fail (the worst outcome wins). */
function record(
  byId: Map<string, TestResult>,
  id: string,
  outcome: { result: TestOutcome; reason: string | null },
  tracebacks: ReadonlyMap<string, { kind: string; text: string }>,
): void {
  const previous = byId.get(id);
  if (previous && rank(previous.result) >= rank(outcome.result)) return;
  const dot = id.lastIndexOf('.');
  const traceback = tracebacks.get(id)?.text;
  const failed = outcome.result === 'failed' || outcome.result === 'error';
  byId.set(id, {
    name: id,
    suite: dot > 0 ? id.slice(0, dot) : null,
    result: outcome.result,
    durationMs: null,
    message: truncateMessage(failed ? (traceback ?? outcome.reason) : outcome.reason),
  });
}

function rank(result: TestOutcome): number {
  return { passed: 0, skipped: 1, failed: 2, error: 3 }[result];
}

/**
 * The `FAIL:`/`ERROR:` sections by test id: each starts after a line of `=`,
 * its traceback after a line of `-`, and ends at the next `=` line or at the
 * `-` line before "Ran N tests". Subtests of one test are joined.
 */
export function failureSections(lines: readonly string[]): Map<string, { kind: string; text: string }> {
  const sections = new Map<string, { kind: string; text: string }>();
  for (let i = 1; i < lines.length; i++) {
    const head = SECTION_HEAD.exec(lines[i]!);
    if (!head || !DOUBLE_RULE.test(lines[i - 1]!)) continue;
    const id = testId(head[2]!, head[3]!);
    const body: string[] = [];
    let j = i + 1;
    if (j < lines.length && SINGLE_RULE.test(lines[j]!)) j++;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (DOUBLE_RULE.test(line)) break;
      if (SINGLE_RULE.test(line) && /^Ran \d+ tests? in /.test(lines[j + 1] ?? '')) break;
      body.push(line);
    }
    const text = [lines[i]!, ...body].join('\n').trim();
    const previous = sections.get(id);
    sections.set(id, { kind: previous?.kind === 'ERROR' ? 'ERROR' : head[1]!, text: previous ? `${previous.text}\n\n${text}` : text });
    i = j - 1;
  }
  return sections;
}
