/**
 * The decisions behind the tests, artifacts and test-history views, kept
 * pure: a test's URL, how a message splits into its line and its traceback,
 * the badges a result carries, the quarantine note, sizes, the separation.
 */
import type { TestHistoryJson, TestResultJson } from '../api/client.js';

/** A test's page: its full name as one URL segment (names carry dots, slashes and `::`). */
export function testPath(name: string): string {
  return `/tests/${encodeURIComponent(name)}`;
}

/** The message's first non-empty line (shown), and the rest (the traceback, collapsed). */
export function splitMessage(message: string | null): { head: string; rest: string } {
  if (message === null) return { head: '', rest: '' };
  const text = message.replace(/^\s*\n/, '');
  const end = text.indexOf('\n');
  if (end < 0) return { head: text.trim(), rest: '' };
  return { head: text.slice(0, end).trim(), rest: text.slice(end + 1).replace(/\s+$/, '') };
}

/** A badge next to a test's result. */
export interface TestBadge {
  key: 'flaky' | 'rerun' | 'quarantined';
  label: string;
  title: string;
}

/** The flaky, re-run and quarantined marks of a result, in that order. */
export function testBadges(result: Pick<TestResultJson, 'flaky' | 'rerun' | 'quarantined'>): TestBadge[] {
  const badges: TestBadge[] = [];
  if (result.flaky) badges.push({ key: 'flaky', label: 'flaky', title: 'failed and passed at the same revision where the code cannot explain it' });
  if (result.rerun) badges.push({ key: 'rerun', label: 're-run', title: 'from the re-run of the failed tests (not counted)' });
  if (result.quarantined) badges.push({ key: 'quarantined', label: 'quarantined', title: 'a known-flaky test: its failure does not turn the step red' });
  return badges;
}

/** Whether a result is a failure (failed or error). */
export function isFailed(result: TestResultJson['result']): boolean {
  return result === 'failed' || result === 'error';
}

/**
 * "2 quarantined tests failed; the step is WARNINGS": said when quarantined
 * failures were ignored, with the results of the steps they failed in (one
 * entry per step; null while a step runs). Null when none failed.
 */
export function quarantineNote(count: number, stepResults: readonly (string | null)[]): string | null {
  if (count <= 0) return null;
  const what = `${count.toLocaleString('en-US')} quarantined test${count === 1 ? '' : 's'} failed`;
  const results = [...new Set(stepResults.filter((r): r is string => r !== null))];
  if (results.length === 0) return `${what}; their failures do not count against the step`;
  return `${what}; the step${stepResults.length === 1 ? ' is' : 's are'} ${results.join(' or ')}`;
}

/** Bytes as the CLI prints them: `512 B`, `195.3 KiB`, `1.9 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The separation's sentence, or what to say when no dimension separates the workers. */
export function separationText(separation: NonNullable<TestHistoryJson['separation']>): string {
  return separation.sentence ?? 'no dimension separates the workers where it failed from those where it passed';
}

/** `1.2 s` for a test's duration; empty when unknown. */
export function testDuration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
