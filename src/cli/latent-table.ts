/**
 * On-demand (latent) instances as people read them: `shepherd cost` (this
 * month's spend per pool against the budget), `shepherd instances` (each
 * instance's life) and the suffix `shepherd workers` puts on an instance's row.
 * Money is the budget's own currency: two decimals, no symbol.
 */
import type { CostJson, InstanceJson } from '../master/api/schemas.js';
import { formatDuration, formatTimestamp } from './format.js';
import { formatTable } from './table.js';

/** An amount of the budget's currency: `12.34`. */
export function formatMoney(amount: number): string {
  return amount.toFixed(2);
}

/** A share as a whole percentage rounded down (99.6% is not yet the full budget), without float noise (1.15 is 115). */
export function wholePercent(fraction: number): number {
  return Math.floor(Math.round(fraction * 10_000) / 100);
}

/** A span as a short age: `40s`, `12m`, `3h`, `2d` (whole units, rounded down). */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** How long an instance has lived: to now while alive, to its stop once stopped. */
export function instanceLifetime(instance: Pick<InstanceJson, 'started_at' | 'stopped_at'>, now: number): number {
  return (instance.stopped_at ?? now) - instance.started_at;
}

/** The `shepherd workers` source cell of an on-demand instance: `on-demand cloud: idle, 12m, 0.02`. */
export function instanceSummary(instance: InstanceJson, now: number): string {
  return `on-demand ${instance.pool}: ${instance.state}, ${formatAge(instanceLifetime(instance, now))}, ${formatMoney(instance.cost)}`;
}

/** `after 12s` once its agent connected; `not yet` while still starting; `never` once stopped without connecting. */
function connectedCell(instance: InstanceJson): string {
  if (instance.connected_at !== null) return `after ${formatDuration(instance.connected_at - instance.started_at)}`;
  return instance.stopped_at === null ? 'not yet' : 'never';
}

/**
 * The `shepherd instances` table, one row per instance (oldest first, as the
 * API answers), each followed by why it stopped or failed on an indented line.
 */
export function formatInstances(instances: readonly InstanceJson[], now: number): string {
  if (instances.length === 0) return 'no on-demand instance ran in that time\n';
  const table = formatTable(
    ['name', 'pool', 'state', 'started', 'connected', 'stopped', 'ran', 'builds', 'cost'],
    instances.map((i) => [
      i.name,
      i.pool,
      i.state,
      formatTimestamp(i.started_at),
      connectedCell(i),
      i.stopped_at === null ? '-' : formatTimestamp(i.stopped_at),
      formatDuration(instanceLifetime(i, now)),
      String(i.builds),
      formatMoney(i.cost),
    ]),
  ).split('\n');
  const lines = [`${table[0]}\n`];
  instances.forEach((instance, index) => {
    lines.push(`${table[index + 1]}\n`);
    if (instance.reason) lines.push(`  ${instance.state === 'failed' ? 'failed' : 'stopped'}: ${instance.reason}\n`);
  });
  return lines.join('');
}

/**
 * `shepherd cost`: the pools' spend this month, then the total against the
 * budget, the forecast, whether the budget stops new starts, each pool's
 * backoff with its reason, and the master's notes.
 */
export function formatCost(cost: CostJson): string {
  const lines: string[] = [`on-demand spend, ${cost.month} (UTC)\n`];
  if (cost.pools.length === 0) {
    lines.push('no on-demand pool is configured\n');
  } else {
    lines.push(
      '\n',
      formatTable(
        ['pool', 'provider', 'running', 'per hour', 'spent'],
        cost.pools.map((p) => [p.name, p.provider, `${p.running}/${p.max_instances}`, formatMoney(p.cost_per_hour), formatMoney(p.spent)]),
      ),
      '\n',
    );
  }
  lines.push(
    cost.budget === null
      ? `spent ${formatMoney(cost.spent)} (no budget set)\n`
      : `spent ${formatMoney(cost.spent)} of ${formatMoney(cost.budget)} budget (${wholePercent(cost.fraction)}%)\n`,
  );
  lines.push(`forecast ${formatMoney(cost.forecast)} this month at ${formatMoney(cost.burn_per_hour)} per hour now\n`);
  if (cost.exhausted) lines.push('exhausted: no new instance starts\n');
  // The reason names the pool, its failed starts and until when (`pool cloud is backing off after 2 failed starts until 12:40 UTC`).
  for (const pool of cost.pools) if (pool.backoff) lines.push(`backoff: ${pool.backoff.reason}\n`);
  for (const n of cost.notes) lines.push(`note: ${n}\n`);
  return lines.join('');
}
