/**
 * A step's result once its tests are known. The process's exit status stays
 * the judge, with two exceptions the issue asks for: a step that failed only
 * because of quarantined tests, or only because of tests that then passed on
 * re-run (flaky), is WARNINGS, not FAILURE. A step that failed for another
 * reason (killed, timed out, could not start) keeps its FAILURE.
 */
import type { Result } from '../domain.js';
import { quarantined, type QuarantineEntry } from './quarantine.js';
import { isFailure, type TestResult } from './types.js';

/** What the decision needs. */
export interface StepTestsInput {
  /** The result from the process alone (`stepResultFromOutcome`). */
  processResult: Result;
  /** Its summary (`exit code 1`, `no output for 20m: killed`...). */
  processSummary?: string | null;
  /** The step's tests; those with `rerun` came from a re-run (regrtest's own). */
  tests: readonly TestResult[];
  builder: string;
  quarantine: readonly QuarantineEntry[];
  /** The tests of a `rerun_failed` step, if one ran. */
  rerun?: readonly TestResult[];
}

/** The step's result with its tests, and what they were. */
export interface StepTestsDecision {
  result: Result;
  summary: string | null;
  /** Failed tests that were not quarantined and did not pass on re-run: what `rerun_failed` runs, and what is red. */
  failedTests: string[];
  /** Failed, then passed on re-run. */
  flaky: string[];
  /** Failed but quarantined, with the entry's reason. */
  quarantined: { name: string; reason: string }[];
  /** Distinct tests of the first run, and how many of them failed. */
  total: number;
  failed: number;
}

const SHOWN = 5;

/** "3 failed of 4,126" with counts in English digit groups. */
export function countText(failed: number, total: number): string {
  return `${failed.toLocaleString('en-US')} failed of ${total.toLocaleString('en-US')}`;
}

function listText(names: readonly string[]): string {
  const shown = names.slice(0, SHOWN).join(', ');
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}

/** Decides a step's result and summary from its process result and its tests. */
export function stepResultWithTests(input: StepTestsInput): StepTestsDecision {
  const first = new Map<string, TestResult>();
  for (const test of input.tests) {
    if (test.rerun) continue;
    const previous = first.get(test.name);
    if (!previous || (isFailure(test.result) && !isFailure(previous.result))) first.set(test.name, test);
  }
  const again = new Map<string, boolean>();
  for (const test of [...input.tests.filter((t) => t.rerun), ...(input.rerun ?? [])]) {
    if (test.result === 'skipped') continue;
    // A test that fails in any re-run has not passed on re-run.
    again.set(test.name, (again.get(test.name) ?? true) && test.result === 'passed');
  }
  const failedNames = [...first.values()].filter((t) => isFailure(t.result)).map((t) => t.name);
  const flaky = failedNames.filter((name) => again.get(name) === true);
  const quarantinedTests = failedNames.flatMap((name) => {
    if (flaky.includes(name)) return [];
    const entry = quarantined(name, input.builder, input.quarantine);
    return entry ? [{ name, reason: entry.reason }] : [];
  });
  const failedTests = failedNames.filter((name) => !flaky.includes(name) && !quarantinedTests.some((q) => q.name === name));
  const total = first.size;
  const base = { failedTests, flaky, quarantined: quarantinedTests, total, failed: failedNames.length };
  if (total === 0 && again.size === 0) return { ...base, result: input.processResult, summary: input.processSummary ?? null };

  const exitedOnItsOwn = input.processSummary == null || /^exit code \d+$/.test(input.processSummary);
  let result = input.processResult;
  if (failedNames.length > 0 && failedTests.length === 0 && exitedOnItsOwn && (result === 'FAILURE' || result === 'SUCCESS')) {
    result = 'WARNINGS';
  }

  const parts: string[] = [];
  if (failedNames.length === 0) {
    const skipped = [...first.values()].filter((t) => t.result === 'skipped').length;
    parts.push(skipped > 0 ? `${countText(0, total)} (${skipped.toLocaleString('en-US')} skipped)` : countText(0, total));
  } else {
    parts.push(failedTests.length > 0 ? `${countText(failedNames.length, total)}: ${listText(failedTests)}` : countText(failedNames.length, total));
  }
  if (flaky.length > 0) parts.push(`${flaky.length === failedNames.length ? 'all' : flaky.length} passed on re-run (flaky): ${listText(flaky)}`);
  if (quarantinedTests.length > 0) {
    const all = quarantinedTests.length === failedNames.length ? 'all' : String(quarantinedTests.length);
    parts.push(`${all} quarantined: ${listText(quarantinedTests.map((q) => `${q.name} (${q.reason})`))}`);
  }
  let summary = parts.join('; ');
  if (result === 'FAILURE' && input.processSummary) summary += ` [${input.processSummary}]`;
  return { ...base, result, summary };
}
