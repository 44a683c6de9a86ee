import { describe, expect, it } from 'vitest';
import { nextFireTime, nightlyFromState, nightlyProblem, shouldQueueNightly } from './nightly.js';

const at = (iso: string) => Date.parse(iso);

describe('nextFireTime', () => {
  it('finds the next fire time in UTC, strictly after the given time', () => {
    const n = { cron: '0 3 * * *', timezone: 'UTC' };
    expect(nextFireTime(n, at('2024-03-01T02:59:00Z'))).toBe(at('2024-03-01T03:00:00Z'));
    expect(nextFireTime(n, at('2024-03-01T03:00:00Z'))).toBe(at('2024-03-02T03:00:00Z'));
    expect(nextFireTime(n, at('2024-03-01T03:00:00.500Z'))).toBe(at('2024-03-02T03:00:00Z'));
  });

  it('reads the expression in the configured time zone, across DST', () => {
    const n = { cron: '0 3 * * *', timezone: 'Europe/Berlin' };
    expect(nextFireTime(n, at('2024-01-10T00:00:00Z'))).toBe(at('2024-01-10T02:00:00Z'));
    expect(nextFireTime(n, at('2024-07-10T00:00:00Z'))).toBe(at('2024-07-10T01:00:00Z'));
  });

  it('honours day-of-week fields', () => {
    // 2024-03-01 is a Friday; "0 3 * * 1" is Mondays.
    expect(nextFireTime({ cron: '30 3 * * 1', timezone: 'UTC' }, at('2024-03-01T00:00:00Z'))).toBe(at('2024-03-04T03:30:00Z'));
  });
});

describe('nightlyProblem', () => {
  it('accepts a five-field expression and an IANA zone', () => {
    expect(nightlyProblem({ cron: '0 3 * * *', timezone: 'America/New_York' })).toBeUndefined();
  });
  it('refuses other field counts, bad fields and unknown zones', () => {
    expect(nightlyProblem({ cron: '0 0 3 * * *', timezone: 'UTC' })).toMatch(/invalid cron "0 0 3 \* \* \*"/);
    expect(nightlyProblem({ cron: '0 25 * * *', timezone: 'UTC' })).toMatch(/invalid cron/);
    expect(nightlyProblem({ cron: '0 3 * * *', timezone: 'Mars/Olympus' })).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});

describe('shouldQueueNightly', () => {
  const never = { lastChangeId: null, lastRunAt: null };
  it('always queues without only_if_changed', () => {
    expect(shouldQueueNightly(false, never, undefined)).toBe(true);
    expect(shouldQueueNightly(false, { lastChangeId: 5, lastRunAt: 1 }, { id: 5 })).toBe(true);
  });
  it('with only_if_changed, queues only for a change newer than the last one built', () => {
    expect(shouldQueueNightly(true, never, undefined)).toBe(false);
    expect(shouldQueueNightly(true, never, { id: 1 })).toBe(true);
    expect(shouldQueueNightly(true, { lastChangeId: 5, lastRunAt: 1 }, { id: 5 })).toBe(false);
    expect(shouldQueueNightly(true, { lastChangeId: 5, lastRunAt: 1 }, { id: 6 })).toBe(true);
    expect(shouldQueueNightly(true, { lastChangeId: null, lastRunAt: 1 }, { id: 6 })).toBe(true);
  });
});

describe('nightlyFromState', () => {
  it('reads saved state, and anything else as never run', () => {
    expect(nightlyFromState({ lastChangeId: 4, lastRunAt: 9 })).toEqual({ lastChangeId: 4, lastRunAt: 9 });
    expect(nightlyFromState(undefined)).toEqual({ lastChangeId: null, lastRunAt: null });
    expect(nightlyFromState({ batches: [] })).toEqual({ lastChangeId: null, lastRunAt: null });
  });
});
