/**
 * Whether a finished build is news, and to whom: pure decisions, so the
 * rules (repeated failures are quiet, try builds do not count) are tested
 * without a database or a network.
 */
import type { Result } from '../domain.js';
import type { NotifierConfig, NotifyWhenValue } from '../config/schema.js';

/** How a counted build relates to the previous counted build of its builder. */
export type Transition = 'failing' | 'recovered' | 'still_failing' | 'still_passing';

/** Passing or failing; null for results that say nothing about the code (RETRY, CANCELLED, SKIPPED). */
export type Outcome = 'passing' | 'failing';

/** Which way a result points, or null when the build does not count. */
export function outcomeOf(result: Result | null): Outcome | null {
  switch (result) {
    case 'SUCCESS':
    case 'WARNINGS':
      return 'passing';
    case 'FAILURE':
    case 'EXCEPTION':
      return 'failing';
    default:
      return null;
  }
}

/** Whether a finished build counts when looking back for the builder's state: try builds and retried or cancelled ones do not. */
export function countsForTransitions(build: { result: Result | null }, isTry: boolean): boolean {
  return !isTry && outcomeOf(build.result) !== null;
}

/**
 * The transition a finished build makes, given the previous counted build of
 * its builder (undefined: none, taken as passing). Null when the build itself
 * does not count.
 */
export function transitionOf(
  build: { result: Result | null },
  isTry: boolean,
  previous: { result: Result | null } | undefined,
): Transition | null {
  if (!countsForTransitions(build, isTry)) return null;
  const now = outcomeOf(build.result)!;
  const before = (previous && outcomeOf(previous.result)) ?? 'passing';
  if (now === 'failing') return before === 'failing' ? 'still_failing' : 'failing';
  return before === 'failing' ? 'recovered' : 'still_passing';
}

/** The `when` values each transition satisfies. */
const SATISFIES: Record<Transition, readonly NotifyWhenValue[]> = {
  failing: ['failing', 'every_failure', 'finished'],
  still_failing: ['every_failure', 'finished'],
  recovered: ['recovered', 'finished'],
  still_passing: ['finished'],
};

/** Whether a notifier speaks about this transition of this builder (its `builders` and `when`). */
export function shouldNotify(
  notifier: Pick<NotifierConfig, 'when' | 'builders'>,
  transition: Transition | null,
  builder: string,
): boolean {
  if (transition === null) return false;
  if (!coversBuilder(notifier, builder)) return false;
  return SATISFIES[transition].some((when) => notifier.when.includes(when));
}

/** Whether a notifier covers a builder at all (GitHub statuses follow every build of the builders they cover, whatever `when` says). */
export function coversBuilder(notifier: Pick<NotifierConfig, 'builders'>, builder: string): boolean {
  return notifier.builders === undefined || notifier.builders.includes(builder);
}
