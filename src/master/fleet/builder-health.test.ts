import { describe, expect, it } from 'vitest';
import type { Result } from '../domain.js';
import { healthFlags, isStale, nextHealthDecisionAt, redStreak, type HealthBuild } from './builder-health.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const thresholds = { redFor: 3 * DAY, staleAfter: DAY };

/** A build that finished at `at` (started ten minutes before). */
const build = (result: Result | null, at: number, isTry = false): HealthBuild => ({ result, startedAt: at - 600_000, finishedAt: at, isTry });

describe('redStreak', () => {
  it('is null for no builds and when the latest counted build passed', () => {
    expect(redStreak([])).toBeNull();
    expect(redStreak([build('FAILURE', 1 * HOUR), build('SUCCESS', 2 * HOUR)])).toBeNull();
    expect(redStreak([build('FAILURE', 1 * HOUR), build('WARNINGS', 2 * HOUR)])).toBeNull();
  });

  it('counts failures back to the last pass, and is red since the first of them finished (any input order)', () => {
    const builds = [build('FAILURE', 5 * HOUR), build('SUCCESS', 1 * HOUR), build('EXCEPTION', 3 * HOUR), build('FAILURE', 4 * HOUR)];
    expect(redStreak(builds)).toEqual({ count: 3, since: 3 * HOUR });
  });

  it('passes over RETRY, CANCELLED, SKIPPED and try builds: they neither end nor extend a streak', () => {
    const builds = [
      build('SUCCESS', 1 * HOUR),
      build('FAILURE', 2 * HOUR),
      build('RETRY', 3 * HOUR),
      build('SUCCESS', 4 * HOUR, true),
      build('CANCELLED', 5 * HOUR),
      build('SKIPPED', 6 * HOUR),
      build('FAILURE', 7 * HOUR),
      build('FAILURE', 8 * HOUR, true),
    ];
    expect(redStreak(builds)).toEqual({ count: 2, since: 2 * HOUR });
  });
});

describe('isStale', () => {
  it('needs a change newer than the last finished build that has waited staleAfter', () => {
    expect(isStale(null, null, 10 * DAY, DAY)).toBe(false);
    expect(isStale(DAY, null, 2 * DAY - 1, DAY)).toBe(false);
    expect(isStale(DAY, null, 2 * DAY, DAY)).toBe(true);
    expect(isStale(DAY, DAY + 1, 5 * DAY, DAY)).toBe(false);
    expect(isStale(DAY, DAY - 1, 2 * DAY, DAY)).toBe(true);
  });
});

describe('healthFlags', () => {
  it('flags red_for_long once the streak is redFor old, with the same since on every later build', () => {
    const builds = [build('SUCCESS', 0), build('FAILURE', DAY)];
    const at = (now: number, more: HealthBuild[] = []) => healthFlags({ name: 'b', builds: [...builds, ...more], changes: [] }, now, thresholds);
    expect(at(4 * DAY - 1)).toEqual([]);
    const flagged = at(4 * DAY);
    expect(flagged).toEqual([{ kind: 'red_for_long', builder: 'b', since: DAY, count: 1 }]);
    const later = at(6 * DAY, [build('FAILURE', 5 * DAY), build('FAILURE', 6 * DAY)]);
    expect(later).toEqual([{ kind: 'red_for_long', builder: 'b', since: DAY, count: 3 }]);
    expect(at(7 * DAY, [build('SUCCESS', 6 * DAY)])).toEqual([]);
  });

  it('flags stale from the oldest change still waiting, so a stream of new changes does not hide it', () => {
    const builder = { name: 'b', builds: [build('SUCCESS', DAY), build('RETRY', 2 * DAY)], changes: [DAY - HOUR, DAY + HOUR, DAY + 20 * HOUR, 2 * DAY] };
    expect(healthFlags(builder, 2 * DAY + HOUR - 1, thresholds)).toEqual([]);
    expect(healthFlags(builder, 2 * DAY + HOUR, thresholds)).toEqual([{ kind: 'stale', builder: 'b', since: DAY + HOUR }]);
    // A build after the waiting changes ends it, even a cancelled one (someone decided); a try build does not.
    expect(healthFlags({ ...builder, builds: [...builder.builds, build('FAILURE', 2 * DAY + 2 * HOUR)] }, 3 * DAY, thresholds)).toEqual([]);
    expect(healthFlags({ ...builder, builds: [...builder.builds, build('CANCELLED', 2 * DAY + 2 * HOUR)] }, 3 * DAY, thresholds)).toEqual([]);
    expect(healthFlags({ ...builder, builds: [...builder.builds, build('SUCCESS', 2 * DAY + 2 * HOUR, true)] }, 3 * DAY, thresholds)).toEqual([
      { kind: 'stale', builder: 'b', since: DAY + HOUR },
    ]);
  });

  it('says when the flags may next change without news', () => {
    const builder = { name: 'b', builds: [build('FAILURE', DAY)], changes: [DAY + HOUR] };
    expect(nextHealthDecisionAt(builder, DAY + HOUR, thresholds)).toBe(2 * DAY + HOUR);
    expect(nextHealthDecisionAt(builder, 3 * DAY, thresholds)).toBe(4 * DAY);
    expect(nextHealthDecisionAt(builder, 5 * DAY, thresholds)).toBeNull();
  });
});
