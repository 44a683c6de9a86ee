/**
 * The decisions behind the cost page and the on-demand marks of the workers
 * views, kept pure: money in the budget's currency, the budget bar's fill and
 * level, how an instance's state reads, and its life (connected after how
 * long, how long it ran).
 */
import type { CostJson, InstanceJson, RequestJson } from '../../../src/master/api/schemas.js';

/** An amount of the budget's own currency: two decimals, no symbol. */
export function formatMoney(amount: number): string {
  return amount.toFixed(2);
}

/** How a bar against the budget reads: its fill (0 to 100), its level and a label. */
export interface BudgetBar {
  /** Width of the filled part, in percent of the bar (capped at 100). */
  fill: number;
  /** `ok` below the alert threshold, `alert` past it, `exhausted` at 100%: no new instance starts. */
  level: 'ok' | 'alert' | 'exhausted';
  /** `187.46 of 200.00 (93%)`. */
  label: string;
}

/** The bar of `spent` against the budget; null without a budget (nothing to fill). */
export function budgetBar(spent: number, cost: Pick<CostJson, 'budget' | 'alert_at'>): BudgetBar | null {
  if (cost.budget === null || cost.budget <= 0) return null;
  const fraction = spent / cost.budget;
  // Rounded down, so 99.6% does not read as a full budget (after shedding float noise: 230/200 is 114.999...%).
  const percent = Math.floor(Math.round(fraction * 10_000) / 100);
  const level = fraction >= 1 ? 'exhausted' : cost.alert_at !== null && fraction >= cost.alert_at ? 'alert' : 'ok';
  return { fill: Math.min(100, Math.max(0, fraction * 100)), level, label: `${formatMoney(spent)} of ${formatMoney(cost.budget)} (${percent}%)` };
}

/** The icon, word and CSS class (a worker state's colour) of an instance state; never colour alone. */
export function instanceStateLook(state: InstanceJson['state']): { icon: string; label: string; key: string } {
  switch (state) {
    case 'starting':
      return { icon: '◌', label: 'starting', key: 'paused' };
    case 'connected':
      return { icon: '●', label: 'connected', key: 'idle' };
    case 'building':
      return { icon: '◷', label: 'building', key: 'building' };
    case 'idle':
      return { icon: '●', label: 'idle', key: 'idle' };
    case 'stopping':
      return { icon: '◑', label: 'stopping', key: 'offline' };
    case 'stopped':
      return { icon: '○', label: 'stopped', key: 'offline' };
    case 'failed':
      return { icon: '✖', label: 'failed', key: 'missing' };
    default:
      return { icon: '?', label: String(state), key: 'unknown' };
  }
}

/** How long an instance has lived: to now while alive, to its stop once stopped. */
export function instanceAge(instance: Pick<InstanceJson, 'started_at' | 'stopped_at'>, now: number): number {
  return Math.max(0, (instance.stopped_at ?? now) - instance.started_at);
}

/** How long its agent took to connect; null while it has not (or never did). */
export function connectDelay(instance: Pick<InstanceJson, 'started_at' | 'connected_at'>): number | null {
  return instance.connected_at === null ? null : Math.max(0, instance.connected_at - instance.started_at);
}

/** What the connected column says when it never connected: `not yet` while alive, `never` once stopped. */
export function notConnectedText(instance: Pick<InstanceJson, 'stopped_at'>): string {
  return instance.stopped_at === null ? 'not yet' : 'never';
}

/** `stopped: idle for 10m` or `failed: ...`; null when there is no reason to show. */
export function instanceReason(instance: Pick<InstanceJson, 'state' | 'reason'>): string | null {
  if (!instance.reason) return null;
  return `${instance.state === 'failed' ? 'failed' : 'stopped'}: ${instance.reason}`;
}

/** Instances newest first (the API answers oldest first; people look for the latest). */
export function newestFirst(instances: readonly InstanceJson[]): InstanceJson[] {
  return [...instances].sort((a, b) => b.started_at - a.started_at || b.id - a.id);
}

/** The waiting reason of each queued request, by id (a builder's pending list does not carry them). */
export function waitingById(requests: readonly Pick<RequestJson, 'id' | 'state' | 'waiting'>[] | undefined): Map<number, string> {
  const reasons = new Map<number, string>();
  for (const r of requests ?? []) if (r.state === 'queued' && r.waiting) reasons.set(r.id, r.waiting);
  return reasons;
}
