/**
 * Builders red for longer than `fleet.health.red_for`, as the home page
 * flags them: looked up by name from the one health document (never a
 * request per builder), worded "red for 9 days, 14 builds".
 */
import type { HealthJson } from '../api/client.js';

/** One builder's long red streak. */
export type RedStreak = HealthJson['red_builders'][number];

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The long red streaks by builder name. */
export function redStreaks(health: Pick<HealthJson, 'red_builders'> | undefined): Map<string, RedStreak> {
  return new Map((health?.red_builders ?? []).map((r) => [r.builder, r]));
}

/** "red for 9 days, 14 builds" (hours under two days: the threshold may be short). */
export function redStreakText(streak: Pick<RedStreak, 'since' | 'count'>, now: number): string {
  const ms = Math.max(0, now - streak.since);
  const days = Math.floor(ms / DAY);
  const hours = Math.floor(ms / HOUR);
  const span = days >= 2 ? `${days} days` : hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'}` : 'under an hour';
  return `red for ${span}, ${streak.count} build${streak.count === 1 ? '' : 's'}`;
}
