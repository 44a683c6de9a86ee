/**
 * `shepherd cost` and `shepherd instances` against a real master whose
 * on-demand pools are a fixed `LatentControl` (the test control runs no pool
 * service), so the text is checked for known figures; and the formatting on
 * its own for the cases one master state cannot show at once.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatentInstanceView } from '../../master/api/control.js';
import type { CostJson } from '../../master/api/schemas.js';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, type TestControl } from '../../master/api/test-control.js';
import type { CostView, LatentControl } from '../../master/latent/pool-service.js';
import { captureCli } from '../capture-cli.js';
import { formatTimestamp } from '../format.js';
import { formatCost, formatInstances } from '../latent-table.js';

const HOUR = 3_600_000;
const t0 = new Date(2026, 10, 28, 9, 0, 0).getTime();

const STOPPED: LatentInstanceView = {
  id: 1,
  name: 'cloud-1',
  pool: 'cloud',
  provider: 'ec2',
  providerId: 'i-0abc',
  state: 'stopped',
  startedAt: t0,
  connectedAt: t0 + 42_000,
  stoppedAt: t0 + HOUR,
  builds: 3,
  reason: 'idle for 10m',
  cost: 0.5,
};
const FAILED: LatentInstanceView = {
  ...STOPPED,
  id: 2,
  name: 'cloud-2',
  state: 'failed',
  providerId: null,
  connectedAt: null,
  stoppedAt: t0 + 2 * HOUR,
  startedAt: t0 + 2 * HOUR - 300_000,
  builds: 0,
  reason: 'its agent did not connect within 5m',
  cost: 0.04,
};
const RUNNING: LatentInstanceView = {
  ...STOPPED,
  id: 3,
  name: 'k8s-1',
  pool: 'k8s',
  provider: 'kubernetes',
  state: 'building',
  stoppedAt: null,
  reason: null,
  builds: 1,
  cost: 1.25,
};

const COST: CostView = {
  month: '2026-11',
  perPool: [],
  spent: 187.456,
  burnPerHour: 1.5,
  forecast: 230.1,
  budget: 200,
  fraction: 0.93728,
  exhausted: false,
  alertAt: 0.8,
  pools: [
    { name: 'cloud', provider: 'ec2', costPerHour: 0.5, spent: 150, running: 0, maxInstances: 4, when: 'always', backoff: { pool: 'cloud', failures: 2, until: t0, reason: 'pool cloud is backing off after 2 failed starts until 12:40 UTC' } },
    { name: 'k8s', provider: 'kubernetes', costPerHour: 1, spent: 37.456, running: 1, maxInstances: 2, when: 'platform-short', backoff: null },
  ],
  notes: [],
};

/** The pools as the API sees them: fixed answers, filtered as the pool service filters. */
const latent: LatentControl = {
  waitingReason: () => null,
  async instances(filter) {
    return [STOPPED, FAILED, RUNNING].filter((i) => (filter.pool === undefined || i.pool === filter.pool) && (!filter.alive || i.stoppedAt === null));
  },
  async cost() {
    return COST;
  },
};

let control: TestControl;
let app: FastifyInstance;
let bare: FastifyInstance;
let client: string[];
let bareClient: string[];

async function listen(server: FastifyInstance): Promise<string[]> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  return ['--master', `http://127.0.0.1:${(server.server.address() as { port: number }).port}`];
}

beforeAll(async () => {
  control = await createTestControl();
  const options = { logger: false, onWorkerSocket: (s: { close(): void }) => s.close(), webRoot: null } as const;
  app = await createHttpServer(control, { ...options, registry: new Registry(), latent });
  bare = await createHttpServer(control, { ...options, registry: new Registry() });
  client = await listen(app);
  bareClient = await listen(bare);
});
afterAll(async () => {
  await app.close();
  await bare.close();
  await control.close();
});

const { shepherd, out, err } = captureCli();

describe('shepherd cost', () => {
  it('prints spend per pool against the budget, the forecast and the backoffs', async () => {
    expect(await shepherd('cost', ...client)).toBe(0);
    expect(out().split('\n')).toEqual([
      'on-demand spend, 2026-11 (UTC)',
      '',
      expect.stringMatching(/^POOL\s+PROVIDER\s+RUNNING\s+PER HOUR\s+SPENT$/),
      expect.stringMatching(/^cloud\s+ec2\s+0\/4\s+0\.50\s+150\.00$/),
      expect.stringMatching(/^k8s\s+kubernetes\s+1\/2\s+1\.00\s+37\.46$/),
      '',
      'spent 187.46 of 200.00 budget (93%)',
      'forecast 230.10 this month at 1.50 per hour now',
      'backoff: pool cloud is backing off after 2 failed starts until 12:40 UTC',
      '',
    ]);
    expect(err()).toBe('');
  });

  it('--json answers the cost document', async () => {
    expect(await shepherd('cost', '--json', ...client)).toBe(0);
    const document = JSON.parse(out()) as CostJson;
    expect(document).toMatchObject({ month: '2026-11', budget: 200, alert_at: 0.8, exhausted: false });
    expect(document.pools[0]!.backoff).toEqual({ failures: 2, until: t0, reason: COST.pools[0]!.backoff!.reason });
  });

  it('says so, on stderr with status 1, when the master runs no pools', async () => {
    expect(await shepherd('cost', ...bareClient)).toBe(1);
    expect(err()).toContain('this master runs no on-demand pools');
  });

  it('shows an exhausted budget, the notes, and a farm without a budget', () => {
    const exhausted = formatCost({ ...costJson(), spent: 200, fraction: 1, exhausted: true, notes: ['budget 200 reached: no new instance'] });
    expect(exhausted).toContain('spent 200.00 of 200.00 budget (100%)\nforecast 230.10 this month at 1.50 per hour now\nexhausted: no new instance starts\n');
    expect(exhausted).toContain('note: budget 200 reached: no new instance\n');
    const free = formatCost({ ...costJson(), budget: null, fraction: 0, pools: [], spent: 0 });
    expect(free).toBe('on-demand spend, 2026-11 (UTC)\nno on-demand pool is configured\nspent 0.00 (no budget set)\nforecast 230.10 this month at 1.50 per hour now\n');
  });
});

describe('shepherd instances', () => {
  it("prints each instance's life, builds and cost, with why it stopped or failed below", async () => {
    expect(await shepherd('instances', ...client)).toBe(0);
    const lines = out().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+POOL\s+STATE\s+STARTED\s+CONNECTED\s+STOPPED\s+RAN\s+BUILDS\s+COST$/);
    expect(lines[1]).toMatch(new RegExp(`^cloud-1\\s+cloud\\s+stopped\\s+${formatTimestamp(t0)}\\s+after 42s\\s+${formatTimestamp(t0 + HOUR)}\\s+1h 00m\\s+3\\s+0\\.50$`));
    expect(lines[2]).toBe('  stopped: idle for 10m');
    expect(lines[3]).toMatch(/^cloud-2\s+cloud\s+failed\s+.*\s+never\s+.*\s+5m 00s\s+0\s+0\.04$/);
    expect(lines[4]).toBe('  failed: its agent did not connect within 5m');
    expect(lines[5]).toMatch(/^k8s-1\s+k8s\s+building\s+.*\s+after 42s\s+-\s+\S.*\s+1\s+1\.25$/);
    expect(lines.slice(6)).toEqual(['']);
  });

  it('--pool, --alive and --days filter; --json answers the list', async () => {
    expect(await shepherd('instances', '--pool', 'cloud', '--days', '7', '--json', ...client)).toBe(0);
    expect((JSON.parse(out()) as { instances: { name: string }[] }).instances.map((i) => i.name)).toEqual(['cloud-1', 'cloud-2']);
  });

  it('--alive keeps the instances not stopped', async () => {
    expect(await shepherd('instances', '--alive', ...client)).toBe(0);
    expect(out()).toMatch(/^NAME.*\nk8s-1\s+k8s\s+building/);
    expect(out().split('\n')).toHaveLength(3);
  });

  it('says when none ran, and refuses a bad --days as a usage error', async () => {
    expect(await shepherd('instances', '--pool', 'nope', ...client)).toBe(0);
    expect(out()).toBe('no on-demand instance ran in that time\n');
    expect(await shepherd('instances', '--days', '0', ...client)).toBe(2);
  });

  it('shows a starting instance as not yet connected, its age so far', () => {
    const starting = { ...instanceJson(RUNNING), state: 'starting' as const, connected_at: null, started_at: t0, cost: 0 };
    expect(formatInstances([starting], t0 + 90_000)).toMatch(/\nk8s-1\s+k8s\s+starting\s+\S+ \S+\s+not yet\s+-\s+1m 30s\s+1\s+0\.00\n$/);
  });
});

function costJson(): CostJson {
  return {
    month: COST.month,
    budget: COST.budget,
    alert_at: COST.alertAt,
    spent: COST.spent,
    fraction: COST.fraction,
    burn_per_hour: COST.burnPerHour,
    forecast: COST.forecast,
    exhausted: COST.exhausted,
    pools: [],
    notes: [],
  };
}

function instanceJson(i: LatentInstanceView) {
  return {
    id: i.id,
    name: i.name,
    pool: i.pool,
    provider: i.provider,
    provider_id: i.providerId,
    state: i.state,
    started_at: i.startedAt,
    connected_at: i.connectedAt,
    stopped_at: i.stoppedAt,
    builds: i.builds,
    reason: i.reason,
    cost: i.cost,
  };
}
