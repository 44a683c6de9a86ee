/**
 * Cost (`/cost`): what the on-demand instances have cost this month (UTC)
 * against the monthly budget, as a bar for the farm and one per pool; the
 * forecast at the current burn; whether the budget stops new starts; the
 * pools backing off after failed starts and why; then the recent instances
 * (`?days=`), newest first, with their life and why each stopped or failed.
 */
import { Link, useSearchParams } from 'react-router';
import { ApiError, type CostJson } from '../api/client.js';
import { useCost, useInstances } from '../api/queries.js';
import { InstanceStateBadge } from '../components/instance-state.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago, formatDuration } from '../components/time.js';
import { budgetBar, connectDelay, formatMoney, instanceAge, instanceReason, newestFirst, notConnectedText, type BudgetBar } from './cost-view.js';
import './fleet-pages.css';

/** The instance spans offered (`?days=`). */
const SPANS = [1, 7, 31] as const;

/** The cost page. */
export function CostPage() {
  const cost = useCost();
  if (cost.isPending) return <Loading what="on-demand cost" />;
  if (cost.isError && cost.error instanceof ApiError && cost.error.status === 503) {
    return (
      <section>
        <h1>On-demand cost</h1>
        <p className="muted">{cost.error.message}: configure pools under `latent:` in the master's config (see docs/latent.md).</p>
      </section>
    );
  }
  if (cost.isError) return <ErrorMessage error={cost.error} />;
  return (
    <>
      <Spend cost={cost.data} />
      <Instances />
    </>
  );
}

/** A bar against the budget: filled in proportion, its level as a word too. */
function Bar({ bar, label }: { bar: BudgetBar; label: string }) {
  return (
    <div className={`budget-bar budget-${bar.level}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(bar.fill)} aria-valuetext={bar.label}>
      <span className="budget-fill" style={{ width: `${bar.fill}%` }} />
    </div>
  );
}

function Spend({ cost }: { cost: CostJson }) {
  const total = budgetBar(cost.spent, cost);
  return (
    <section aria-labelledby="cost-title">
      <h1 id="cost-title">On-demand cost</h1>
      <p className="muted">
        {cost.month} (UTC), from each instance's real start and stop times and its pool's cost per hour. Amounts are in the budget's currency.
      </p>
      {cost.exhausted && (
        <p className="error" role="alert">
          Budget exhausted: no new instance starts until next month or a larger `budget.monthly`.
        </p>
      )}
      <dl className="kv">
        <dt>Spent</dt>
        <dd>
          {total ? (
            <>
              <Bar bar={total} label="spent of the monthly budget" /> {total.label}
              {total.level === 'alert' && <span className="red-flag"> past the alert threshold</span>}
            </>
          ) : (
            <>
              {formatMoney(cost.spent)} <span className="muted">(no budget set)</span>
            </>
          )}
        </dd>
        <dt>Forecast</dt>
        <dd>
          {formatMoney(cost.forecast)} this month <span className="muted">at {formatMoney(cost.burn_per_hour)} per hour now</span>
        </dd>
      </dl>
      {cost.notes.length > 0 && (
        <ul>
          {cost.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <h2>Pools</h2>
      {cost.pools.length === 0 ? (
        <p className="muted">No on-demand pool is configured.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Pool</th>
                <th scope="col" className="hide-narrow">Provider</th>
                <th scope="col">Running</th>
                <th scope="col" className="hide-narrow">Per hour</th>
                <th scope="col">Spent</th>
                <th scope="col">Backoff</th>
              </tr>
            </thead>
            <tbody>
              {cost.pools.map((pool) => {
                const bar = budgetBar(pool.spent, cost);
                return (
                  <tr key={pool.name}>
                    <td>
                      <strong>{pool.name}</strong>
                      {pool.when === 'platform-short' && <span className="muted"> (only while a platform is short)</span>}
                    </td>
                    <td className="hide-narrow">{pool.provider}</td>
                    <td>
                      {pool.running} / {pool.max_instances}
                    </td>
                    <td className="hide-narrow">{formatMoney(pool.cost_per_hour)}</td>
                    <td className="nowrap">
                      {bar && <Bar bar={{ ...bar, level: 'ok' }} label={`pool ${pool.name}'s share of the budget`} />} {formatMoney(pool.spent)}
                    </td>
                    <td>{pool.backoff ? <span className="red-flag">{pool.backoff.reason}</span> : <span className="muted">—</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Instances() {
  const [params, setParams] = useSearchParams();
  const asked = Number(params.get('days'));
  const days = (SPANS as readonly number[]).includes(asked) ? asked : 7;
  const instances = useInstances(days);
  const now = Date.now();
  return (
    <section aria-labelledby="instances-title">
      <h2 id="instances-title">Instances</h2>
      <p className="pills" aria-label="span">
        {SPANS.map((span) => (
          <button key={span} type="button" className="pill" aria-pressed={span === days} onClick={() => setParams({ days: String(span) })}>
            {span === 1 ? 'last day' : `last ${span} days`}
          </button>
        ))}
      </p>
      {instances.isPending && <Loading what="instances" />}
      {instances.isError && <ErrorMessage error={instances.error} />}
      {instances.data && instances.data.length === 0 && <p className="muted">No instance ran in that time.</p>}
      {instances.data && instances.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col" className="hide-narrow">Connected</th>
                <th scope="col">Ran</th>
                <th scope="col" className="hide-narrow">Builds</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {newestFirst(instances.data).map((instance) => {
                const connected = connectDelay(instance);
                const reason = instanceReason(instance);
                return (
                  <tr key={instance.id}>
                    <td>
                      {instance.stopped_at === null ? <Link to={`/workers/${encodeURIComponent(instance.name)}`}>{instance.name}</Link> : instance.name}{' '}
                      <span className="muted">({instance.pool})</span>
                      {reason && <div className={instance.state === 'failed' ? 'error' : 'muted'}>{reason}</div>}
                    </td>
                    <td>
                      <InstanceStateBadge state={instance.state} />
                    </td>
                    <td className="nowrap">
                      <Ago at={instance.started_at} />
                    </td>
                    <td className="hide-narrow nowrap">{connected === null ? <span className="muted">{notConnectedText(instance)}</span> : `after ${formatDuration(connected)}`}</td>
                    <td className="nowrap">
                      {formatDuration(instanceAge(instance, now))}
                      {instance.stopped_at === null && <span className="muted"> so far</span>}
                    </td>
                    <td className="hide-narrow">{instance.builds}</td>
                    <td>{formatMoney(instance.cost)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
