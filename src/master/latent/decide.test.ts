/**
 * Starting and stopping latent instances: every rule with an injected `now`
 * (no sleeping), and the sentences people see.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerSelector } from '../scheduling/match.js';
import {
  backoffDelay,
  decideLatent,
  formatClock,
  waitingReason,
  type LatentInstance,
  type LatentPool,
  type LatentSnapshot,
} from './decide.js';

const NOW = Date.UTC(2025, 2, 14, 12, 0);
const MIN = 60_000;

const linuxPool: LatentPool = {
  name: 'cloud-linux',
  dimensions: { os: 'linux', arch: 'x86_64' },
  max_instances: 4,
  start_timeout: 10 * MIN,
  idle_timeout: 10 * MIN,
  cost_per_hour: 0.1,
  when: 'always',
};

const selectors = new Map<string, WorkerSelector>([
  ['linux-tests', { os: 'linux' }],
  ['mac-tests', { os: 'macos' }],
  ['pinned', ['volunteer-1']],
]);

function snapshot(overrides: Partial<LatentSnapshot> = {}): LatentSnapshot {
  return {
    now: NOW,
    pools: [linuxPool],
    instances: [],
    waiting: [],
    selectors,
    platforms: [],
    failures: new Map(),
    spent: 0,
    budget: { monthly: 200 },
    ...overrides,
  };
}

function instance(id: string, state: LatentInstance['state'], fields: Partial<LatentInstance> = {}): LatentInstance {
  return { id, pool: 'cloud-linux', state, startedAt: NOW - 5 * MIN, connectedAt: null, idleSince: null, stoppedAt: null, builds: 0, ...fields };
}

const requests = (n: number, builder = 'linux-tests') => Array.from({ length: n }, (_, i) => ({ id: i + 1, builder }));

describe('starting instances for waiting requests', () => {
  it('starts one instance per waiting request a pool serves, saying why', () => {
    const decision = decideLatent(snapshot({ waiting: requests(2) }));
    expect(decision.starts).toEqual([
      {
        pool: 'cloud-linux',
        count: 2,
        reasons: [
          'queued build for linux-tests waits: no connected worker matches; starting cloud-linux (1 of 4)',
          'queued build for linux-tests waits: no connected worker matches; starting cloud-linux (2 of 4)',
        ],
      },
    ]);
    expect(decision.waiting.get(1)).toBe('starting an instance of pool cloud-linux for it');
    expect(decision.stops).toEqual([]);
  });

  it('never goes past max_instances, counting running and stopping instances', () => {
    const instances = [instance('a', 'building'), instance('b', 'stopping')];
    const decision = decideLatent(snapshot({ waiting: requests(5), instances }));
    expect(decision.starts[0]!.count).toBe(2);
    expect(decision.starts[0]!.reasons.at(-1)).toMatch(/\(4 of 4\)$/);
    expect(decision.waiting.get(5)).toBe('pool cloud-linux is at max_instances (4 of 4)');
  });

  it('lets instances still starting take waiting requests before starting more', () => {
    const instances = [instance('a', 'starting', { startedAt: NOW - MIN })];
    const decision = decideLatent(snapshot({ waiting: requests(2), instances }));
    expect(decision.starts).toEqual([{ pool: 'cloud-linux', count: 1, reasons: [expect.stringMatching(/\(2 of 4\)$/)] }]);
    expect(decision.waiting.get(1)).toBe('an instance of pool cloud-linux is starting for it');
  });

  it('starts nothing for requests no pool serves, and says so', () => {
    const decision = decideLatent(snapshot({ waiting: [{ id: 1, builder: 'mac-tests' }, { id: 2, builder: 'pinned' }, { id: 3, builder: 'gone' }] }));
    expect(decision.starts).toEqual([]);
    for (const id of [1, 2, 3]) {
      expect(decision.waiting.get(id)).toBe('no connected worker matches, and no on-demand pool has the dimensions it needs');
    }
  });

  it('uses the pools in config order, and the next one when the first is full', () => {
    const second: LatentPool = { ...linuxPool, name: 'cloud-linux-2', max_instances: 1 };
    const first: LatentPool = { ...linuxPool, max_instances: 1 };
    const decision = decideLatent(snapshot({ pools: [first, second], waiting: requests(3) }));
    expect(decision.starts.map((s) => [s.pool, s.count])).toEqual([['cloud-linux', 1], ['cloud-linux-2', 1]]);
    expect(decision.waiting.get(3)).toBe('pool cloud-linux is at max_instances (1 of 1); pool cloud-linux-2 is at max_instances (1 of 1)');
  });
});

describe('the budget', () => {
  it('starts nothing at or over 100%, and says so', () => {
    for (const spent of [200, 250]) {
      const decision = decideLatent(snapshot({ waiting: requests(1), spent }));
      expect(decision.starts).toEqual([]);
      expect(decision.notes).toEqual(['budget 200 reached: no new instance']);
      expect(decision.waiting.get(1)).toBe('budget 200 reached: no new instance');
    }
  });

  it('still starts just under it, and without a budget', () => {
    expect(decideLatent(snapshot({ waiting: requests(1), spent: 199.99 })).starts[0]!.count).toBe(1);
    expect(decideLatent(snapshot({ waiting: requests(1), spent: 1e6, budget: undefined })).starts[0]!.count).toBe(1);
  });

  it('still stops idle instances when the budget is reached', () => {
    const instances = [instance('a', 'idle', { idleSince: NOW - 11 * MIN })];
    expect(decideLatent(snapshot({ spent: 300, instances })).stops.map((s) => s.instance)).toEqual(['a']);
  });
});

describe('stopping instances', () => {
  it('stops an instance idle past idle_timeout, not before', () => {
    const instances = [
      instance('a', 'idle', { connectedAt: NOW - 30 * MIN, idleSince: NOW - 10 * MIN, builds: 1 }),
      instance('b', 'idle', { connectedAt: NOW - 30 * MIN, idleSince: NOW - 10 * MIN + 1, builds: 1 }),
      instance('c', 'connected', { connectedAt: NOW - 12 * MIN }),
      instance('d', 'building', { connectedAt: NOW - 60 * MIN }),
    ];
    const { stops } = decideLatent(snapshot({ instances }));
    expect(stops).toEqual([
      { instance: 'a', pool: 'cloud-linux', failed: false, reason: 'instance a of cloud-linux idle for 10m (idle_timeout 10m); stopping it' },
      { instance: 'c', pool: 'cloud-linux', failed: false, reason: 'instance c of cloud-linux idle for 12m (idle_timeout 10m); stopping it' },
    ]);
  });

  it('with idle_timeout 0, stops an instance once its build finished', () => {
    const pool = { ...linuxPool, idle_timeout: 0 };
    const instances = [
      instance('done', 'idle', { connectedAt: NOW - 5 * MIN, idleSince: NOW, builds: 1 }),
      instance('fresh', 'connected', { connectedAt: NOW - MIN }),
      instance('stale', 'connected', { connectedAt: NOW - 10 * MIN }),
      instance('busy', 'building', { connectedAt: NOW - 5 * MIN }),
    ];
    const { stops } = decideLatent(snapshot({ pools: [pool], instances }));
    expect(stops.map((s) => [s.instance, s.reason])).toEqual([
      ['done', 'instance done of cloud-linux finished its build (idle_timeout 0: one build, then stop); stopping it'],
      ['stale', 'instance stale of cloud-linux has had no build for 10m since it connected (idle_timeout 0); stopping it'],
    ]);
  });

  it('fails and stops a start that did not connect within start_timeout, and backs the pool off', () => {
    const instances = [instance('slow', 'starting', { startedAt: NOW - 10 * MIN }), instance('ok', 'starting', { startedAt: NOW - 9 * MIN })];
    const decision = decideLatent(snapshot({ instances, waiting: requests(3) }));
    expect(decision.stops).toEqual([
      {
        instance: 'slow',
        pool: 'cloud-linux',
        failed: true,
        reason: 'instance slow of cloud-linux did not connect within 10m (start_timeout): the start failed; stopping it',
      },
    ]);
    expect(decision.backoffs).toEqual([
      { pool: 'cloud-linux', failures: 1, until: NOW + MIN, reason: 'pool cloud-linux is backing off after 1 failed start until 12:01 UTC' },
    ]);
    // The instance still starting takes the first request; the others wait for the backoff.
    expect(decision.starts).toEqual([]);
    expect(decision.waiting.get(1)).toBe('an instance of pool cloud-linux is starting for it');
    expect(decision.waiting.get(2)).toBe('pool cloud-linux is backing off after 1 failed start until 12:01 UTC');
  });

  it('stops instances of a pool no longer configured, and leaves stopping and stopped ones alone', () => {
    const instances = [
      instance('orphan', 'idle', { pool: 'old-pool', idleSince: NOW }),
      instance('going', 'stopping', { startedAt: NOW - 60 * MIN }),
      instance('gone', 'stopped', { stoppedAt: NOW - MIN }),
      instance('broken', 'failed', { startedAt: NOW - 60 * MIN, stoppedAt: NOW - 40 * MIN }),
    ];
    expect(decideLatent(snapshot({ instances })).stops).toEqual([
      { instance: 'orphan', pool: 'old-pool', failed: false, reason: 'instance orphan of old-pool: pool old-pool is no longer configured; stopping it' },
    ]);
  });
});

describe('backoff after failed starts', () => {
  it('doubles from one minute and caps at one hour', () => {
    expect([0, 1, 2, 3, 4, 6, 7, 8, 50].map(backoffDelay)).toEqual([0, MIN, 2 * MIN, 4 * MIN, 8 * MIN, 32 * MIN, 60 * MIN, 60 * MIN, 60 * MIN]);
  });

  it('holds the pool until lastAt + delay, then starts again', () => {
    const failures = new Map([['cloud-linux', { consecutive: 3, lastAt: NOW - 2 * MIN }]]);
    const held = decideLatent(snapshot({ waiting: requests(1), failures }));
    expect(held.starts).toEqual([]);
    expect(held.backoffs).toEqual([
      { pool: 'cloud-linux', failures: 3, until: NOW + 2 * MIN, reason: 'pool cloud-linux is backing off after 3 failed starts until 12:02 UTC' },
    ]);
    const later = decideLatent(snapshot({ now: NOW + 2 * MIN, waiting: requests(1), failures }));
    expect(later.backoffs).toEqual([]);
    expect(later.starts[0]!.count).toBe(1);
  });

  it('adds a start timing out now to the run of failures', () => {
    const failures = new Map([['cloud-linux', { consecutive: 6, lastAt: NOW - 2 * 60 * MIN }]]);
    const instances = [instance('slow', 'starting', { startedAt: NOW - 10 * MIN })];
    const decision = decideLatent(snapshot({ instances, failures }));
    expect(decision.backoffs).toEqual([expect.objectContaining({ failures: 7, until: NOW + 60 * MIN })]);
  });

  it('names the day when the backoff ends on another one', () => {
    expect(formatClock(Date.UTC(2025, 2, 15, 0, 30), Date.UTC(2025, 2, 14, 23, 50))).toBe('2025-03-15 00:30 UTC');
  });
});

describe('platform-short pools', () => {
  const shortPool: LatentPool = { ...linuxPool, name: 'cloud-fill', when: 'platform-short' };
  const platform = (shortfall: number) => [{ name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, shortfall }];

  it('start nothing while the platform has its volunteers', () => {
    const decision = decideLatent(snapshot({ pools: [shortPool], waiting: requests(1), platforms: platform(0) }));
    expect(decision.starts).toEqual([]);
    expect(decision.waiting.get(1)).toBe('pool cloud-fill starts only while its platform is below redundancy, and linux-x86_64 is not');
  });

  it('start only as many as the platform lacks, counting those already starting', () => {
    const decision = decideLatent(snapshot({ pools: [shortPool], waiting: requests(3), platforms: platform(2) }));
    expect(decision.starts).toEqual([{ pool: 'cloud-fill', count: 2, reasons: expect.any(Array) }]);
    expect(decision.waiting.get(3)).toBe(
      'pool cloud-fill starts only while its platform is below redundancy, and instances already starting fill the gap of linux-x86_64',
    );

    const instances = [instance('a', 'starting', { pool: 'cloud-fill', startedAt: NOW - MIN })];
    const next = decideLatent(snapshot({ pools: [shortPool], instances, waiting: requests(3), platforms: platform(1) }));
    expect(next.starts).toEqual([]);
    expect(next.waiting.get(1)).toBe('an instance of pool cloud-fill is starting for it');
  });

  it('leave the work to an always pool listed after them when the platform is covered', () => {
    const decision = decideLatent(snapshot({ pools: [shortPool, linuxPool], waiting: requests(1), platforms: platform(0) }));
    expect(decision.starts.map((s) => s.pool)).toEqual(['cloud-linux']);
  });
});

describe('waitingReason', () => {
  it('says why a request waits, for the build page', () => {
    const failures = new Map([['cloud-linux', { consecutive: 3, lastAt: Date.UTC(2025, 2, 14, 12, 36) }]]);
    const now = Date.UTC(2025, 2, 14, 12, 37);
    expect(waitingReason({ id: 9, builder: 'linux-tests' }, snapshot({ now, failures }))).toBe(
      'waiting: pool cloud-linux is backing off after 3 failed starts until 12:40 UTC',
    );
    expect(waitingReason({ id: 9, builder: 'linux-tests' }, snapshot({ spent: 200 }))).toBe('waiting: budget 200 reached: no new instance');
    expect(waitingReason({ id: 9, builder: 'mac-tests' }, snapshot())).toBe(
      'waiting: no connected worker matches, and no on-demand pool has the dimensions it needs',
    );
  });

  it('decides the request in its place in the queue', () => {
    const pool = { ...linuxPool, max_instances: 1 };
    const waiting = requests(2);
    expect(waitingReason(waiting[0]!, snapshot({ pools: [pool], waiting }))).toBe('waiting: starting an instance of pool cloud-linux for it');
    expect(waitingReason(waiting[1]!, snapshot({ pools: [pool], waiting }))).toBe('waiting: pool cloud-linux is at max_instances (1 of 1)');
  });
});
