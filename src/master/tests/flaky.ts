/**
 * Flakiness: a test that failed and passed at the same revision where the
 * code cannot explain the difference. That is on the same worker, or on the
 * same platform, or failed and then passed when re-run in the same build.
 * Two builders' (or one builder's) workers of *different* platforms do not
 * count: a test failing only on s390x is a platform bug, which separation
 * (`separation.ts`) names instead. A result with no known platform falls
 * back to "same builder".
 *
 * Across revisions, a test that flips (failed ↔ passed) between two
 * consecutive builds of one builder on one platform is flaky when none of
 * the changes between them touched code: Shepherd cannot know which code a
 * test exercises, so it takes the builder's own word for which files matter
 * (its on_change schedulers' `files`/`ignore`). With no such declaration
 * every file matters, and this rule never fires.
 */
import { isFailure, type TestOutcome } from './types.js';

/** What flakiness needs of a stored result. */
export interface TestRunFacts {
  id: number;
  buildId: number;
  name: string;
  revision: string | null;
  builder: string;
  worker: string;
  platform: string | null;
  result: TestOutcome;
  rerun: boolean;
}

/** Why a test is flaky. */
export type FlakyReason = 'passed on re-run' | 'same worker' | 'same platform' | 'same builder' | 'no code change';

/** A test found flaky at one revision, and the results that show it (to mark). */
export interface FlakyTest {
  name: string;
  revision: string;
  reason: FlakyReason;
  /** Ids of the failing and passing results that pair up. */
  ids: number[];
}

/** Why a failure and a pass at the same revision show flakiness, or null when they do not. */
function pairReason(failure: TestRunFacts, pass: TestRunFacts): FlakyReason | null {
  if (pass.rerun && !failure.rerun && pass.buildId === failure.buildId && pass.id > failure.id) return 'passed on re-run';
  if (failure.worker === pass.worker) return 'same worker';
  if (failure.platform !== null && failure.platform === pass.platform) return 'same platform';
  if ((failure.platform === null || pass.platform === null) && failure.builder === pass.builder) return 'same builder';
  return null;
}

const STRENGTH: readonly FlakyReason[] = ['passed on re-run', 'same worker', 'same platform', 'same builder'];

/** The flaky tests among these results (any mix of names and revisions; results without a revision are ignored). */
export function flakyTests(runs: readonly TestRunFacts[]): FlakyTest[] {
  const groups = new Map<string, TestRunFacts[]>();
  for (const run of runs) {
    if (run.revision === null || run.result === 'skipped') continue;
    const key = `${run.name}\u0000${run.revision}`;
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  const found: FlakyTest[] = [];
  for (const group of groups.values()) {
    const failures = group.filter((r) => isFailure(r.result));
    const passes = group.filter((r) => r.result === 'passed');
    let reason: FlakyReason | null = null;
    const ids = new Set<number>();
    for (const failure of failures) {
      for (const pass of passes) {
        const why = pairReason(failure, pass);
        if (why === null) continue;
        ids.add(failure.id).add(pass.id);
        if (reason === null || STRENGTH.indexOf(why) < STRENGTH.indexOf(reason)) reason = why;
      }
    }
    if (reason !== null) found.push({ name: group[0]!.name, revision: group[0]!.revision!, reason, ids: [...ids].sort((a, b) => a - b) });
  }
  return found;
}

/**
 * Tests that flipped between the builder's previous build and this one on
 * the same platform, when `codeChanged` is false (the changes between them
 * touched no file the builder cares about). Returns each with the ids of
 * both results. Pure: the caller reads the two builds' results.
 */
export function flipsWithoutCodeChange(previous: readonly TestRunFacts[], current: readonly TestRunFacts[], codeChanged: boolean): FlakyTest[] {
  if (codeChanged) return [];
  const before = new Map(previous.filter((r) => !r.rerun && r.result !== 'skipped').map((r) => [r.name, r]));
  const found: FlakyTest[] = [];
  for (const run of current) {
    const earlier = before.get(run.name);
    if (!earlier || run.rerun || run.result === 'skipped' || run.revision === null) continue;
    if (earlier.platform !== run.platform || isFailure(earlier.result) === isFailure(run.result)) continue;
    found.push({ name: run.name, revision: run.revision, reason: 'no code change', ids: [earlier.id, run.id] });
  }
  return found;
}

/**
 * Whether any of `changes` touched a file that matters to a builder: one
 * that an on_change scheduler of the builder counts as important. No
 * changes, or no scheduler saying which files matter, cannot be told apart
 * from a code change: true.
 */
export function codeChanged(changes: readonly { files: readonly string[] }[], important: readonly ((change: { files: string[] }) => boolean)[]): boolean {
  if (changes.length === 0 || important.length === 0) return true;
  return changes.some((change) => important.some((matters) => matters({ files: [...change.files] })));
}
