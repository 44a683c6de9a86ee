/**
 * What latent instances cost: spend per pool this month from the real start
 * and stop times of each instance, the month's forecast, and the budget's
 * alert and exhaustion. Pure functions of an injected `now`; months are UTC
 * calendar months, so every master and every report agree on the boundary.
 */

const HOUR_MS = 3_600_000;

/** An instance's running life, as the cost sees it. */
export interface CostedInstance {
  pool: string;
  /** When its provider was asked to start it (epoch ms): a machine bills from its start, connected or not. */
  startedAt: number;
  /** When it was stopped (epoch ms); null while it runs, so it counts until `now`. */
  stoppedAt: number | null;
  /** The price it started at, when recorded: a later config change does not rewrite the past. */
  costPerHour?: number;
}

/** The first millisecond of the UTC month holding `at`, and the first of the next one. */
export function monthBounds(at: number): { start: number; end: number } {
  const date = new Date(at);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

/** `2025-03`: the UTC month holding `at`, as alert keys and reports name it. */
export function monthKey(at: number): string {
  const date = new Date(at);
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Hours an instance ran within [from, to), counting a running one until `now`. */
export function hoursWithin(instance: Pick<CostedInstance, 'startedAt' | 'stoppedAt'>, from: number, to: number, now: number): number {
  const end = Math.min(instance.stoppedAt ?? now, to, now);
  const start = Math.max(instance.startedAt, from);
  return end > start ? (end - start) / HOUR_MS : 0;
}

function priceOf(instance: CostedInstance, prices: ReadonlyMap<string, number>): number {
  return instance.costPerHour ?? prices.get(instance.pool) ?? 0;
}

/** Spend this month per pool (every pool in `prices` appears, at 0 if idle all month). */
export function spendByPool(instances: readonly CostedInstance[], prices: ReadonlyMap<string, number>, now: number): Map<string, number> {
  const { start, end } = monthBounds(now);
  const spend = new Map<string, number>([...prices.keys()].map((pool) => [pool, 0]));
  for (const instance of instances) {
    const cost = hoursWithin(instance, start, end, now) * priceOf(instance, prices);
    spend.set(instance.pool, (spend.get(instance.pool) ?? 0) + cost);
  }
  return spend;
}

/** What the instances running now cost per hour together. */
export function hourlyBurn(instances: readonly CostedInstance[], prices: ReadonlyMap<string, number>, now: number): number {
  return instances
    .filter((instance) => instance.startedAt <= now && instance.stoppedAt === null)
    .reduce((sum, instance) => sum + priceOf(instance, prices), 0);
}

/** The month's spend if what runs now keeps running to its end: spent + burn × hours left. */
export function forecastMonth(spent: number, burnPerHour: number, now: number): number {
  return spent + burnPerHour * ((monthBounds(now).end - now) / HOUR_MS);
}

/** The budget as the cost needs it (the config's `budget`). */
export interface Budget {
  monthly: number;
  alert_at: number;
}

/** Where spending stands against the budget: what `shepherd cost`, the API and the UI show. */
export interface CostReport {
  month: string;
  perPool: { pool: string; spent: number }[];
  spent: number;
  burnPerHour: number;
  forecast: number;
  /** null without a budget (no pool costs money). */
  budget: number | null;
  /** spent / budget (0 without a budget). */
  fraction: number;
  /** At or past 100%: no new instance starts. */
  exhausted: boolean;
}

/** Spend this month per pool and in all, the forecast, and the budget's state. */
export function costReport(
  instances: readonly CostedInstance[],
  prices: ReadonlyMap<string, number>,
  budget: Budget | undefined,
  now: number,
): CostReport {
  const perPool = [...spendByPool(instances, prices, now)].map(([pool, spent]) => ({ pool, spent }));
  const spent = perPool.reduce((sum, entry) => sum + entry.spent, 0);
  const burnPerHour = hourlyBurn(instances, prices, now);
  return {
    month: monthKey(now),
    perPool,
    spent,
    burnPerHour,
    forecast: forecastMonth(spent, burnPerHour, now),
    budget: budget?.monthly ?? null,
    fraction: budget ? spent / budget.monthly : 0,
    exhausted: budgetExhausted(budget, spent),
  };
}

/** Whether no new instance may start: spend at or past the monthly budget. */
export function budgetExhausted(budget: Budget | undefined, spent: number): boolean {
  return budget !== undefined && spent >= budget.monthly;
}

/** An alert to mail to fleet.announce; the caller records `key` once sent. */
export interface BudgetAlert {
  key: string;
  subject: string;
  text: string;
}

/**
 * The alert to send when spend has passed `alert_at` of the budget, unless
 * this month's was already sent (its key is in `sent`): once per month, and
 * again next month, since the key names the month.
 */
export function budgetAlert(budget: Budget | undefined, spent: number, forecast: number, now: number, sent: ReadonlySet<string>): BudgetAlert | null {
  if (!budget || spent < budget.alert_at * budget.monthly) return null;
  const month = monthKey(now);
  const key = `budget-alert:${month}`;
  if (sent.has(key)) return null;
  const percent = Math.floor((spent / budget.monthly) * 100);
  const exhausted = budgetExhausted(budget, spent);
  return {
    key,
    subject: `Shepherd: on-demand workers at ${percent}% of the ${month} budget`,
    text: [
      `On-demand workers have spent ${formatMoney(spent)} of the monthly budget of ${formatMoney(budget.monthly)} in ${month} (UTC).`,
      `Forecast for the month at the current rate: ${formatMoney(forecast)}.`,
      exhausted
        ? 'The budget is exhausted: no new instance starts until next month, and queued builds that need one wait.'
        : 'At 100% no new instance starts; raise budget.monthly or stop pools to avoid it.',
    ].join('\n'),
  };
}

/** Money as reports show it: two decimals, no currency (the budget's own). */
export function formatMoney(amount: number): string {
  return amount.toFixed(2);
}
