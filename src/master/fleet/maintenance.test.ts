import { describe, expect, it } from 'vitest';
import { WorkerEntry } from '../config/schema.js';
import { absenceCountsFrom, inMaintenance, maintenanceEndsAt, nextMaintenanceAt } from './maintenance.js';

const H = 3_600_000;
const D = 24 * H;
// A Sunday, 02:00 UTC: "0 2 * * 0" opens then.
const SUN = Date.UTC(2026, 10, 29, 2);
const weekly = [{ cron: '0 2 * * 0', duration: 3 * H }];

describe('inMaintenance and maintenanceEndsAt', () => {
  it('is open from the fire time (inclusive) for its duration (exclusive)', () => {
    expect(inMaintenance(weekly, SUN - 1)).toBe(false);
    expect(inMaintenance(weekly, SUN)).toBe(true);
    expect(maintenanceEndsAt(weekly, SUN)).toBe(SUN + 3 * H);
    expect(maintenanceEndsAt(weekly, SUN + 3 * H - 1)).toBe(SUN + 3 * H);
    expect(inMaintenance(weekly, SUN + 3 * H)).toBe(false);
    expect(maintenanceEndsAt(weekly, SUN + 3 * H)).toBeNull();
    expect(inMaintenance(weekly, SUN + 7 * D + H)).toBe(true);
  });

  it('takes the latest end of overlapping windows, and nothing from no windows', () => {
    const two = [...weekly, { cron: '0 4 * * 0', duration: 2 * H }];
    expect(maintenanceEndsAt(two, SUN + H)).toBe(SUN + 3 * H);
    expect(maintenanceEndsAt(two, SUN + 2 * H + 30 * 60_000)).toBe(SUN + 4 * H);
    expect(inMaintenance([], SUN)).toBe(false);
  });

  it('knows the next opening after now', () => {
    expect(nextMaintenanceAt(weekly, SUN - H)).toBe(SUN);
    expect(nextMaintenanceAt(weekly, SUN)).toBe(SUN + 7 * D);
    expect(nextMaintenanceAt([], SUN)).toBeNull();
  });
});

describe('absenceCountsFrom', () => {
  it('is the disconnection without windows, or when the last window ended before it', () => {
    expect(absenceCountsFrom([], SUN, H, SUN + 5 * H)).toBe(SUN);
    expect(absenceCountsFrom(weekly, SUN + 4 * H, H, SUN + 10 * H)).toBe(SUN + 4 * H);
  });

  it("restarts at the window's end when the worker left in it or just before it", () => {
    // Gone 30 minutes before the window, missing after an hour: the window opens first.
    expect(absenceCountsFrom(weekly, SUN - H / 2, H, SUN + H)).toBe(SUN + 3 * H);
    expect(absenceCountsFrom(weekly, SUN + H, H, SUN + 10 * H)).toBe(SUN + 3 * H);
  });

  it('ignores a window that opens once the worker is already missing', () => {
    expect(absenceCountsFrom(weekly, SUN - 2 * H, H, SUN + H)).toBe(SUN - 2 * H);
    expect(absenceCountsFrom(weekly, SUN - 20 * D, H, SUN + H)).toBe(SUN - 20 * D);
  });

  it('follows back-to-back windows', () => {
    const chain = [weekly[0]!, { cron: '0 5 * * 0', duration: 2 * H }];
    // The second window opens at the first's end, before the hour runs out.
    expect(absenceCountsFrom(chain, SUN + H, H, SUN + 10 * H)).toBe(SUN + 5 * H);
  });
});

describe('maintenance in the config (workers[].maintenance)', () => {
  const entry = (maintenance: unknown) => WorkerEntry.safeParse({ name: 'w1', secret_env: 'W1_SECRET', maintenance });

  it('reads five-field cron windows with a duration in ms, none by default', () => {
    expect(entry([{ cron: '0 2 * * 0', duration: '3h' }]).data?.maintenance).toEqual([{ cron: '0 2 * * 0', duration: 3 * H }]);
    expect(entry(undefined).data?.maintenance).toEqual([]);
  });

  it('refuses a bad cron, a six-field cron, a zero duration and unknown keys', () => {
    const problems = (maintenance: unknown) => entry(maintenance).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems([{ cron: 'every sunday', duration: '3h' }])?.[0]).toMatch(/^maintenance\.0\.cron: invalid cron "every sunday"/);
    expect(problems([{ cron: '0 0 2 * * 0', duration: '3h' }])?.[0]).toMatch(/^maintenance\.0\.cron: invalid cron/);
    expect(problems([{ cron: '0 2 * * 0', duration: '0' }])).toEqual(['maintenance.0.duration: expected a duration above 0']);
    expect(problems([{ cron: '0 2 * * 0', duration: '3h', timezone: 'UTC' }])?.[0]).toMatch(/^maintenance\.0: /);
  });
});
