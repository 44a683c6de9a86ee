/**
 * On-demand instances and what they cost: `GET /api/v1/instances` (each
 * instance's life: started, connected, stopped, why, and its cost) and
 * `GET /api/v1/cost` (this month's spend per pool against the budget, with a
 * forecast and each pool's backoff).
 */
import { ShepherdError } from '../../errors.js';
import type { CostView, LatentControl } from '../../latent/pool-service.js';
import type { ApiRouter } from '../route.js';
import { CostJson, InstanceListJson, InstanceQuery } from '../schemas.js';
import { instanceJson } from '../views.js';

/** `GET /api/v1/instances` and `GET /api/v1/cost`; without pools (`latent` undefined) they answer empty and 503. */
export function registerLatentRoutes(api: ApiRouter, latent: LatentControl | undefined): void {
  api.route({
    method: 'GET',
    url: '/api/v1/instances',
    operationId: 'listInstances',
    summary: 'On-demand instances: their life and cost',
    description:
      'Instances the on-demand pools started that ran in the last `days` (default 31), oldest first: running and stopped ones, ' +
      'with why each stopped or failed. `alive=true` keeps only those not stopped; `pool` one pool.',
    tag: 'workers',
    query: InstanceQuery,
    response: InstanceListJson,
    async handler({ query }) {
      const instances = latent ? await latent.instances({ days: query.days, ...(query.pool ? { pool: query.pool } : {}), alive: query.alive === 'true' }) : [];
      return { instances: instances.map(instanceJson) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/cost',
    operationId: 'getCost',
    summary: "On-demand instances' spend this month against the budget",
    description:
      'Spend per pool this UTC month from the real start and stop times of each instance and its pool’s `cost_per_hour`, ' +
      'the forecast at the current rate, and the budget (`budget.monthly`): past `alert_at` the announce list is mailed, at 100% no instance starts.',
    tag: 'workers',
    response: CostJson,
    async handler() {
      if (!latent) throw new ShepherdError('SHEPHERD_E_UNAVAILABLE', 'this master runs no on-demand pools');
      return costJson(await latent.cost());
    },
  });
}

function costJson(cost: CostView): CostJson {
  return {
    month: cost.month,
    budget: cost.budget,
    alert_at: cost.alertAt,
    spent: cost.spent,
    fraction: cost.fraction,
    burn_per_hour: cost.burnPerHour,
    forecast: cost.forecast,
    exhausted: cost.exhausted,
    pools: cost.pools.map((pool) => ({
      name: pool.name,
      provider: pool.provider,
      cost_per_hour: pool.costPerHour,
      spent: pool.spent,
      running: pool.running,
      max_instances: pool.maxInstances,
      when: pool.when,
      backoff: pool.backoff ? { failures: pool.backoff.failures, until: pool.backoff.until, reason: pool.backoff.reason } : null,
    })),
    notes: cost.notes,
  };
}
