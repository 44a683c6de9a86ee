import { describe, expect, it } from 'vitest';
import { redStreaks, redStreakText } from './red-streak.js';

const DAY = 86_400_000;

describe('redStreakText', () => {
  it('says days from two days on, hours below, and the builds', () => {
    const now = 100 * DAY;
    expect(redStreakText({ since: now - 9 * DAY - 5_000, count: 14 }, now)).toBe('red for 9 days, 14 builds');
    expect(redStreakText({ since: now - 30 * 3_600_000, count: 1 }, now)).toBe('red for 30 hours, 1 build');
    expect(redStreakText({ since: now - 60_000, count: 2 }, now)).toBe('red for under an hour, 2 builds');
  });
});

describe('redStreaks', () => {
  it('indexes the health document by builder, and is empty without one', () => {
    const streaks = redStreaks({ red_builders: [{ builder: 'b1', count: 3, since: 5, first_failing_build_id: 9 }] });
    expect(streaks.get('b1')?.count).toBe(3);
    expect(streaks.has('b2')).toBe(false);
    expect(redStreaks(undefined).size).toBe(0);
  });
});
