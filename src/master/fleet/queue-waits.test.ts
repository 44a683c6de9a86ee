import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../config/schema.js';
import type { QueueWait } from '../store/store.js';
import { nearestRank, platformOfWorker, queueWaitStats, workerPlatforms } from './queue-waits.js';

const MINUTE = 60_000;

/** Listed out of tier order on purpose: `linux` (tier 3) comes first in the config. */
const PLATFORMS: PlatformConfig[] = [
  { name: 'linux', select: { os: 'linux' }, tier: 3, redundancy: 2 },
  { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
  { name: 'linux-any-1', select: { os: 'linux', arch: 'arm64' }, tier: 2, redundancy: 1 },
  { name: 'linux-any-2', select: { os: 'linux', arch: 'arm64', libc: 'musl' }, tier: 2, redundancy: 1 },
];

const w = (builder: string, worker: string, waitMs: number, startedAt = 0): QueueWait => ({ builder, worker, startedAt, waitMs });

describe('nearestRank', () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

  it('takes the smallest value with p% of the values at or below it', () => {
    expect(nearestRank(oneToTwenty, 50)).toBe(10);
    expect(nearestRank(oneToTwenty, 95)).toBe(19);
    expect(nearestRank(oneToTwenty, 100)).toBe(20);
    // 10 values: p95's rank is ceil(9.5) = 10, the largest.
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });

  it('answers the one value of one, and the first of two for the median', () => {
    expect(nearestRank([42], 50)).toBe(42);
    expect(nearestRank([42], 95)).toBe(42);
    expect(nearestRank([3, 8], 50)).toBe(3);
    expect(nearestRank([3, 8], 95)).toBe(8);
  });

  it('refuses no values rather than answering undefined', () => {
    expect(() => nearestRank([], 50)).toThrow(/no values/);
  });
});

describe('platformOfWorker', () => {
  it('takes the first matching platform by tier, not by config order', () => {
    expect(platformOfWorker(PLATFORMS, { os: 'linux', arch: 'x86_64' })).toBe('linux-x86_64');
    expect(platformOfWorker(PLATFORMS, { os: 'linux', arch: 'riscv64' })).toBe('linux');
  });

  it('keeps config order within a tier', () => {
    expect(platformOfWorker(PLATFORMS, { os: 'linux', arch: 'arm64', libc: 'musl' })).toBe('linux-any-1');
    expect(platformOfWorker([...PLATFORMS].reverse(), { os: 'linux', arch: 'arm64', libc: 'musl' })).toBe('linux-any-2');
  });

  it('answers other when no platform selects the worker, or none is configured', () => {
    expect(platformOfWorker(PLATFORMS, { os: 'freebsd', arch: 'x86_64' })).toBe('other');
    expect(platformOfWorker([], { os: 'linux' })).toBe('other');
  });

  it('maps every worker by name', () => {
    const map = workerPlatforms(PLATFORMS, [
      { name: 'lx', dimensions: { os: 'linux', arch: 'x86_64' } },
      { name: 'bsd', dimensions: { os: 'freebsd' } },
    ]);
    expect([...map]).toEqual([
      ['lx', 'linux-x86_64'],
      ['bsd', 'other'],
    ]);
  });
});

describe('queueWaitStats', () => {
  const platformOf = new Map([
    ['lx-1', 'linux-x86_64'],
    ['lx-2', 'linux-x86_64'],
    ['arm-1', 'linux-arm64'],
  ]);

  it('groups by builder and the platform of the worker that took the build', () => {
    const waits = [
      // lib on x86_64: two workers, one group; 1..20 minutes.
      ...Array.from({ length: 20 }, (_, i) => w('lib', i % 2 === 0 ? 'lx-1' : 'lx-2', (20 - i) * MINUTE)),
      w('lib', 'arm-1', 3 * MINUTE),
      w('lib', 'arm-1', 90 * MINUTE),
      w('app', 'lx-1', 5_000),
    ];
    expect(queueWaitStats(waits, platformOf)).toEqual([
      { builder: 'lib', platform: 'linux-arm64', builds: 2, p50Ms: 3 * MINUTE, p95Ms: 90 * MINUTE },
      { builder: 'lib', platform: 'linux-x86_64', builds: 20, p50Ms: 10 * MINUTE, p95Ms: 19 * MINUTE },
      { builder: 'app', platform: 'linux-x86_64', builds: 1, p50Ms: 5_000, p95Ms: 5_000 },
    ]);
  });

  it('breaks p95 ties by builder, then platform', () => {
    const waits = [w('zlib', 'lx-1', 1000), w('app', 'lx-1', 1000), w('app', 'arm-1', 1000), w('app', 'gone', 1000)];
    expect(queueWaitStats(waits, platformOf).map((s) => `${s.builder} ${s.platform}`)).toEqual([
      'app linux-arm64',
      'app linux-x86_64',
      'app other',
      'zlib linux-x86_64',
    ]);
  });

  it('counts a worker it has no platform for as other, a negative wait as 0, and rounds to whole ms', () => {
    expect(queueWaitStats([w('lib', 'retired-1', -250), w('lib', 'retired-1', 1234.6)], platformOf)).toEqual([
      { builder: 'lib', platform: 'other', builds: 2, p50Ms: 0, p95Ms: 1235 },
    ]);
  });

  it('does not depend on the order of the rows', () => {
    const waits = [w('lib', 'lx-1', 9), w('lib', 'lx-2', 1), w('lib', 'lx-1', 5), w('lib', 'lx-1', 7)];
    expect(queueWaitStats(waits, platformOf)).toEqual(queueWaitStats([...waits].reverse(), platformOf));
    expect(queueWaitStats(waits, platformOf)[0]).toMatchObject({ builds: 4, p50Ms: 5, p95Ms: 9 });
  });

  it('answers nothing for no waits', () => {
    expect(queueWaitStats([], platformOf)).toEqual([]);
  });
});
