/**
 * Builder health: how long a builder has been red and whether it has gone
 * stale (changes waiting, no build finishing). Pure decisions over a
 * builder's finished builds and its changes' arrival times, so the digest,
 * the home page and the farm simulator share one rule. A flag names the
 * start of the fact it is about (`since`): a consumer shows or mails it once
 * per streak, never once per build.
 */
import type { Millis, Result } from '../domain.js';
import { countsForTransitions, outcomeOf } from '../notify/decide.js';

/** A finished build as health sees it. */
export interface HealthBuild {
  result: Result | null;
  startedAt: Millis;
  finishedAt: Millis;
  /** Try builds test someone's patch, not the builder's code: they never count. */
  isTry: boolean;
}

/** A builder's consecutive failing builds, up to its latest counted build. */
export interface RedStreak {
  /** Counted failing builds in a row (RETRY, CANCELLED, SKIPPED and try builds are passed over). */
  count: number;
  /** When the builder turned red: the first failing build of the streak finished. */
  since: Millis;
}

/** What health knows of one builder. */
export interface HealthBuilder {
  name: string;
  /** Its finished builds, in any order. */
  builds: readonly HealthBuild[];
  /** When its changes arrived (each change the builder should build), in any order. */
  changes: readonly Millis[];
}

/** The thresholds health flags use (milliseconds). */
export interface HealthThresholds {
  /** Red at least this long: flagged for the digest and the home page. */
  redFor: Millis;
  /** A change waiting at least this long with no build finishing: stale. */
  staleAfter: Millis;
}

/**
 * A flag on a builder. `since` identifies the fact (the streak's start, the
 * waiting change's arrival), so the same flag seen again is not news.
 */
export type HealthFlag =
  | { kind: 'red_for_long'; builder: string; since: Millis; count: number }
  | { kind: 'stale'; builder: string; since: Millis };

/** The counted builds (see `countsForTransitions`), oldest first. */
function counted(builds: readonly HealthBuild[]): HealthBuild[] {
  return builds.filter((b) => countsForTransitions(b, b.isTry)).sort((a, b) => a.finishedAt - b.finishedAt || a.startedAt - b.startedAt);
}

/**
 * The red streak ending at the builder's latest counted build, or null when
 * that build passed (or none counted): builds that say nothing about the
 * code neither break a streak nor extend it, the rule notifications use.
 */
export function redStreak(builds: readonly HealthBuild[]): RedStreak | null {
  const list = counted(builds);
  let count = 0;
  let since: Millis | null = null;
  for (let i = list.length - 1; i >= 0; i--) {
    const build = list[i]!;
    if (outcomeOf(build.result) !== 'failing') break;
    count++;
    since = build.finishedAt;
  }
  return since === null ? null : { count, since };
}

/**
 * Whether a builder is stale: a change arrived at `changeAt` after its last
 * finished build (`lastFinishedAt`, null if none ever finished) and has
 * waited at least `staleAfter`. Callers pass the oldest such change (as
 * `healthFlags` does), so a steady stream of new changes cannot hide it.
 */
export function isStale(changeAt: Millis | null, lastFinishedAt: Millis | null, now: Millis, staleAfter: Millis): boolean {
  if (changeAt === null) return false;
  if (lastFinishedAt !== null && lastFinishedAt >= changeAt) return false;
  return now - changeAt >= staleAfter;
}

/** The oldest change that arrived after the builder's last build that answers for it finished (null: none waiting). */
export function oldestWaitingChange(builder: HealthBuilder): Millis | null {
  const last = lastAnsweringFinish(builder.builds);
  let oldest: Millis | null = null;
  for (const at of builder.changes) {
    if ((last === null || at > last) && (oldest === null || at < oldest)) oldest = at;
  }
  return oldest;
}

/**
 * Whether a finished build answers for the changes before it, for
 * staleness: any non-try build except RETRY (the farm still owes that one:
 * it is what a lost worker produces). A CANCELLED or SKIPPED build counts:
 * someone decided, the builder is not stuck.
 */
export function answersForChanges(build: HealthBuild): boolean {
  return !build.isTry && build.result !== null && build.result !== 'RETRY';
}

function lastAnsweringFinish(builds: readonly HealthBuild[]): Millis | null {
  let last: Millis | null = null;
  for (const b of builds) if (answersForChanges(b) && (last === null || b.finishedAt > last)) last = b.finishedAt;
  return last;
}

/**
 * The builder's health flags at `now`: `red_for_long` once its red streak
 * has lasted `redFor` (the same `since` for the whole streak, so it is
 * flagged once, not per build), `stale` once a change has waited
 * `staleAfter` with no build finishing (see `answersForChanges`: retried and
 * try builds do not end staleness).
 */
export function healthFlags(builder: HealthBuilder, now: Millis, thresholds: HealthThresholds): HealthFlag[] {
  const flags: HealthFlag[] = [];
  const streak = redStreak(builder.builds);
  if (streak && now - streak.since >= thresholds.redFor) {
    flags.push({ kind: 'red_for_long', builder: builder.name, since: streak.since, count: streak.count });
  }
  const waiting = oldestWaitingChange(builder);
  if (waiting !== null && isStale(waiting, lastAnsweringFinish(builder.builds), now, thresholds.staleAfter)) {
    flags.push({ kind: 'stale', builder: builder.name, since: waiting });
  }
  return flags;
}

/**
 * The next time after `now` at which `healthFlags` may change with no new
 * build or change (null: only a build or a change can change them), for a
 * service's timer.
 */
export function nextHealthDecisionAt(builder: HealthBuilder, now: Millis, thresholds: HealthThresholds): Millis | null {
  const candidates: Millis[] = [];
  const streak = redStreak(builder.builds);
  if (streak) candidates.push(streak.since + thresholds.redFor);
  const waiting = oldestWaitingChange(builder);
  if (waiting !== null) candidates.push(waiting + thresholds.staleAfter);
  const future = candidates.filter((t) => t > now);
  return future.length > 0 ? Math.min(...future) : null;
}
