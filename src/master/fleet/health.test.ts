import { describe, expect, it } from 'vitest';
import { farmHealth, platformScore, tierWeight, type FarmHealthInput, type HealthWorker } from './health.js';
import type { PlatformCoverage } from './types.js';

const DAY = 86_400_000;

const platform = (name: string, tier: number, redundancy: number, live: string[]): PlatformCoverage => ({
  name,
  tier,
  redundancy,
  select: {},
  workers: live,
  live,
  builders: [],
  short: live.length < redundancy,
});
const worker = (name: string, state: HealthWorker['state'], admins: string[] = []): HealthWorker => ({ name, state, since: null, admins });

const healthy: FarmHealthInput = {
  coverage: [platform('linux', 1, 2, ['a', 'b']), platform('mac', 2, 1, ['c'])],
  workers: [worker('a', 'idle'), worker('b', 'building'), worker('c', 'idle'), worker('d', 'paused')],
  builders: 4,
  flags: [],
  suspects: [],
};

describe('platformScore and tierWeight', () => {
  it('scores the share of wanted live workers, capped at 100, and full marks when none are wanted', () => {
    expect(platformScore({ live: ['a'], redundancy: 2 })).toBe(50);
    expect(platformScore({ live: ['a', 'b', 'c'], redundancy: 2 })).toBe(100);
    expect(platformScore({ live: [], redundancy: 0 })).toBe(100);
    expect(platformScore({ live: [], redundancy: 3 })).toBe(0);
  });
  it('weighs tier 1 twice tier 2', () => {
    expect(tierWeight(1)).toBe(1);
    expect(tierWeight(2)).toBe(0.5);
    expect(tierWeight(0)).toBe(1);
  });
});

describe('farmHealth', () => {
  it('gives a farm with everything covered and nothing wrong 100 and nothing to do', () => {
    expect(farmHealth(healthy)).toEqual({
      score: 100,
      platforms: [
        { name: 'linux', tier: 1, score: 100, live: 2, redundancy: 2, short: false },
        { name: 'mac', tier: 2, score: 100, live: 1, redundancy: 1, short: false },
      ],
      attention: [],
    });
  });

  it('gives a farm with no platforms, workers or builders full marks', () => {
    expect(farmHealth({ coverage: [], workers: [], builders: 0, flags: [], suspects: [] }).score).toBe(100);
  });

  it('costs a short tier-1 platform twice what the same shortfall costs on tier 2', () => {
    const tier1 = farmHealth({ ...healthy, coverage: [platform('linux', 1, 2, ['a']), platform('mac', 2, 1, ['c'])] });
    const tier2 = farmHealth({ ...healthy, coverage: [platform('linux', 1, 2, ['a', 'b']), platform('mac', 2, 2, ['c'])] });
    // Weights 1 and 1/2: linux half short costs 50 * 1 * 0.5 / 1.5; mac half short 50 * 0.5 * 0.5 / 1.5.
    expect(tier1.attention).toEqual([
      { kind: 'platform_short', subject: 'linux', points: 16.67, message: 'platform linux (tier 1) has 1 of the 2 live workers wanted' },
    ]);
    expect(tier1.score).toBe(83);
    expect(tier2.attention[0]).toMatchObject({ kind: 'platform_short', subject: 'mac', points: 8.33 });
    expect(tier2.score).toBe(92);
    expect(tier1.platforms[0]).toMatchObject({ name: 'linux', score: 50, short: true });
  });

  it('costs an orphaned worker twice a missing one, not counting paused workers, and names the admins', () => {
    const result = farmHealth({
      ...healthy,
      workers: [worker('a', 'orphaned'), worker('b', 'missing', ['Ada <ada@example.org>']), worker('c', 'idle'), worker('d', 'paused')],
    });
    // W = 3 (d is paused): 20 * (1 + 0.5) / 3 = 10 points lost.
    expect(result.score).toBe(90);
    expect(result.attention).toEqual([
      { kind: 'worker_orphaned', subject: 'a', points: 6.67, message: 'worker a is orphaned: its admins have not brought it back (no admin known)' },
      { kind: 'worker_missing', subject: 'b', points: 3.33, message: 'worker b is missing (admins: Ada <ada@example.org>)' },
    ]);
  });

  it('costs red-for-long builders, stale ones half as much, and suspect workers; most points first', () => {
    const result = farmHealth({
      ...healthy,
      flags: [
        { kind: 'stale', builder: 'docs', since: DAY },
        { kind: 'red_for_long', builder: 'lib', since: 0, count: 9 },
      ],
      suspects: [{ worker: 'c', count: 3, since: 0, evidence: [] }],
    });
    // builders: 20 * 1.5 / 4 = 7.5; suspects: 10 / 3 = 3.33.
    expect(result.score).toBe(89);
    expect(result.attention.map((a) => [a.kind, a.subject, a.points])).toEqual([
      ['builder_red', 'lib', 5],
      ['worker_suspect', 'c', 3.33],
      ['builder_stale', 'docs', 2.5],
    ]);
    expect(result.attention[0]!.message).toBe('builder lib has failed 9 builds in a row');
  });

  it('never goes below 0 however much is wrong', () => {
    const result = farmHealth({
      coverage: [platform('linux', 1, 2, [])],
      workers: [worker('a', 'orphaned')],
      builders: 1,
      flags: [
        { kind: 'red_for_long', builder: 'x', since: 0, count: 2 },
        { kind: 'stale', builder: 'x', since: 0 },
      ],
      suspects: [
        { worker: 'a', count: 3, since: 0, evidence: [] },
        { worker: 'b', count: 3, since: 0, evidence: [] },
      ],
    });
    expect(result.score).toBe(0);
    expect(result.attention[0]).toMatchObject({ kind: 'platform_short', subject: 'linux', points: 50 });
  });
});
