/**
 * Spend, forecast and budget alerts from real start and stop times, with an
 * injected `now`: UTC month boundaries, instances spanning them, the year's
 * turn, and instances still running.
 */
import { describe, expect, it } from 'vitest';
import {
  budgetAlert,
  budgetExhausted,
  costReport,
  forecastMonth,
  hourlyBurn,
  hoursWithin,
  monthBounds,
  monthKey,
  spendByPool,
  type CostedInstance,
} from './cost.js';

const H = 3_600_000;
const prices = new Map([['cloud-linux', 0.1], ['big', 2]]);
const at = (month: number, day: number, hour = 0, year = 2025) => Date.UTC(year, month - 1, day, hour);

describe('months', () => {
  it('are UTC calendar months, including February of a leap year and the turn of the year', () => {
    expect(monthBounds(at(3, 14, 12))).toEqual({ start: at(3, 1), end: at(4, 1) });
    expect(monthBounds(at(2, 29, 23, 2024))).toEqual({ start: at(2, 1, 0, 2024), end: at(3, 1, 0, 2024) });
    expect(monthBounds(at(12, 31, 23))).toEqual({ start: at(12, 1), end: at(1, 1, 0, 2026) });
    expect(monthBounds(at(4, 1))).toEqual({ start: at(4, 1), end: at(5, 1) });
    expect(monthBounds(at(4, 1) - 1)).toEqual({ start: at(3, 1), end: at(4, 1) });
    expect([monthKey(at(1, 1)), monthKey(at(12, 31, 23))]).toEqual(['2025-01', '2025-12']);
  });
});

describe('spend', () => {
  it('counts each instance from its start to its stop at its pool price', () => {
    const instances: CostedInstance[] = [
      { pool: 'cloud-linux', startedAt: at(3, 2, 10), stoppedAt: at(3, 2, 13) },
      { pool: 'big', startedAt: at(3, 3, 0), stoppedAt: at(3, 3, 0) + 30 * 60_000 },
    ];
    const spend = spendByPool(instances, prices, at(3, 14));
    expect(spend.get('cloud-linux')).toBeCloseTo(0.3, 10);
    expect(spend.get('big')).toBeCloseTo(1, 10);
  });

  it('counts a running instance until now, and nothing of the future', () => {
    const running: CostedInstance = { pool: 'big', startedAt: at(3, 14, 8), stoppedAt: null };
    expect(spendByPool([running], prices, at(3, 14, 12)).get('big')).toBeCloseTo(8, 10);
    expect(spendByPool([running], prices, at(3, 14, 13)).get('big')).toBeCloseTo(10, 10);
    expect(hoursWithin(running, at(3, 1), at(4, 1), at(3, 14, 7))).toBe(0);
  });

  it('splits an instance spanning a month boundary between the two months', () => {
    const spanning: CostedInstance = { pool: 'big', startedAt: at(1, 31, 22), stoppedAt: at(2, 1, 3) };
    expect(spendByPool([spanning], prices, at(1, 31, 23, 2025)).get('big')).toBeCloseTo(2, 10); // 1h so far in January
    expect(spendByPool([spanning], prices, at(2, 1, 0) - 1).get('big')).toBeCloseTo(4, 5); // all of January's 2h
    expect(spendByPool([spanning], prices, at(2, 10)).get('big')).toBeCloseTo(6, 10); // February's 3h
    expect(spendByPool([spanning], prices, at(3, 10)).get('big')).toBe(0);
  });

  it('splits one running across the turn of the year, and across a whole month', () => {
    const running: CostedInstance = { pool: 'cloud-linux', startedAt: at(12, 31, 20, 2024), stoppedAt: null };
    expect(spendByPool([running], prices, at(1, 1, 2)).get('cloud-linux')).toBeCloseTo(0.2, 10);
    const long: CostedInstance = { pool: 'cloud-linux', startedAt: at(1, 15), stoppedAt: at(3, 2) };
    expect(spendByPool([long], prices, at(3, 1) - 1).get('cloud-linux')).toBeCloseTo(28 * 24 * 0.1, 5); // all of February
    expect(spendByPool([long], prices, at(3, 5)).get('cloud-linux')).toBeCloseTo(24 * 0.1, 10); // March's day
  });

  it('prefers the price an instance started at, and lists idle pools at 0', () => {
    const instances: CostedInstance[] = [
      { pool: 'cloud-linux', startedAt: at(3, 1), stoppedAt: at(3, 1, 1), costPerHour: 5 },
      { pool: 'removed', startedAt: at(3, 1), stoppedAt: at(3, 1, 1) },
    ];
    const spend = spendByPool(instances, prices, at(3, 2));
    expect(Object.fromEntries(spend)).toEqual({ 'cloud-linux': 5, big: 0, removed: 0 });
  });
});

describe('forecast and report', () => {
  it('adds the current hourly burn over the hours left in the month', () => {
    const now = at(4, 30, 14); // 10 hours left in April
    const instances: CostedInstance[] = [
      { pool: 'big', startedAt: now - 2 * H, stoppedAt: null },
      { pool: 'cloud-linux', startedAt: now - H, stoppedAt: null },
      { pool: 'cloud-linux', startedAt: now - 5 * H, stoppedAt: now - 4 * H },
    ];
    expect(hourlyBurn(instances, prices, now)).toBeCloseTo(2.1, 10);
    expect(forecastMonth(10, 2.1, now)).toBeCloseTo(10 + 21, 10);

    const report = costReport(instances, prices, { monthly: 50, alert_at: 0.8 }, now);
    expect(report).toMatchObject({ month: '2025-04', budget: 50, exhausted: false });
    expect(report.spent).toBeCloseTo(4 + 0.1 + 0.1, 10);
    expect(report.forecast).toBeCloseTo(4.2 + 21, 10);
    expect(report.fraction).toBeCloseTo(4.2 / 50, 10);
    expect(report.perPool.map((p) => p.pool)).toEqual(['cloud-linux', 'big']);
  });

  it('has no budget fraction without a budget, and is exhausted at 100%', () => {
    expect(costReport([], prices, undefined, at(3, 1))).toMatchObject({ spent: 0, budget: null, fraction: 0, exhausted: false, forecast: 0 });
    expect(budgetExhausted({ monthly: 200, alert_at: 0.8 }, 199.99)).toBe(false);
    expect(budgetExhausted({ monthly: 200, alert_at: 0.8 }, 200)).toBe(true);
    expect(budgetExhausted(undefined, 1e9)).toBe(false);
  });
});

describe('the budget alert', () => {
  const budget = { monthly: 200, alert_at: 0.8 };

  it('fires past alert_at, once per month, and again next month', () => {
    expect(budgetAlert(budget, 159.99, 170, at(3, 20), new Set())).toBeNull();
    const alert = budgetAlert(budget, 160, 230, at(3, 20), new Set())!;
    expect(alert.key).toBe('budget-alert:2025-03');
    expect(alert.subject).toBe('Shepherd: on-demand workers at 80% of the 2025-03 budget');
    expect(alert.text).toContain('spent 160.00 of the monthly budget of 200.00 in 2025-03');
    expect(alert.text).toContain('Forecast for the month at the current rate: 230.00.');
    expect(budgetAlert(budget, 190, 230, at(3, 31, 23), new Set([alert.key]))).toBeNull();
    expect(budgetAlert(budget, 170, 230, at(4, 1), new Set([alert.key]))!.key).toBe('budget-alert:2025-04');
  });

  it('says when the budget is exhausted, and never fires without a budget', () => {
    expect(budgetAlert(budget, 200, 200, at(3, 20), new Set())!.text).toContain('The budget is exhausted');
    expect(budgetAlert(undefined, 1e6, 1e6, at(3, 20), new Set())).toBeNull();
  });
});
