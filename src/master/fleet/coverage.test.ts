import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../config/schema.js';
import { lacking, orphanBuilders, platformCoverage, uncoverableBuilders, type CoverageBuilder, type CoverageWorker } from './coverage.js';

/** A small volunteer farm: two linux x86_64 boxes (one down), an arm64 box, a mac, a FreeBSD box that is down. */
const PLATFORMS: PlatformConfig[] = [
  { name: 'freebsd-amd64', select: { os: 'freebsd', arch: 'x86_64' }, tier: 2, redundancy: 1 },
  { name: 'linux', select: { os: 'linux' }, tier: 3, redundancy: 2 },
  { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
  { name: 'linux-arm64', select: { os: 'linux', arch: 'arm64' }, tier: 1, redundancy: 1 },
  { name: 'macos-arm64', select: { os: 'macos', arch: 'arm64' }, tier: 2, redundancy: 2 },
];

const WORKERS: CoverageWorker[] = [
  { name: 'lx-1', dimensions: { os: 'linux', arch: 'x86_64', gpu: 'cuda' }, live: true },
  { name: 'lx-2', dimensions: { os: 'linux', arch: 'x86_64' }, live: false },
  { name: 'arm-1', dimensions: { os: 'linux', arch: 'arm64' }, live: true },
  { name: 'mac-1', dimensions: { os: 'macos', arch: 'arm64' }, live: true },
  { name: 'bsd-1', dimensions: { os: 'freebsd', arch: 'x86_64' }, live: false },
];

const BUILDERS: CoverageBuilder[] = [
  { name: 'unix-tests', workers: { os: 'linux' } },
  { name: 'x86-release', workers: { os: 'linux', arch: 'x86_64' } },
  { name: 'cuda', workers: { os: 'linux', gpu: 'cuda' } },
  { name: 'mac-app', workers: ['mac-1'] },
  { name: 'bsd-ports', workers: ['bsd-1'] },
  { name: 'windows', workers: { os: 'windows' } },
];

describe('platformCoverage', () => {
  const coverage = platformCoverage(PLATFORMS, WORKERS, BUILDERS);
  const byName = new Map(coverage.map((c) => [c.name, c]));

  it('puts tier 1 first, the furthest below redundancy first within a tier', () => {
    expect(coverage.map((c) => c.name)).toEqual(['linux-x86_64', 'linux-arm64', 'freebsd-amd64', 'macos-arm64', 'linux']);
  });

  it('counts a worker for every platform whose dimensions it has', () => {
    expect(byName.get('linux')).toMatchObject({ workers: ['lx-1', 'lx-2', 'arm-1'], live: ['lx-1', 'arm-1'], short: false });
    expect(byName.get('linux-x86_64')).toMatchObject({ workers: ['lx-1', 'lx-2'], live: ['lx-1'], short: true, tier: 1, redundancy: 2 });
    expect(byName.get('linux-arm64')).toMatchObject({ workers: ['arm-1'], live: ['arm-1'], short: false });
  });

  it('a tier-1 platform with fewer live workers than its redundancy is short', () => {
    const farm = WORKERS.map((w) => (w.name === 'arm-1' ? { ...w, live: false } : w));
    const arm = platformCoverage(PLATFORMS, farm, BUILDERS).find((c) => c.name === 'linux-arm64')!;
    expect(arm).toMatchObject({ short: true, live: [], workers: ['arm-1'], tier: 1 });
  });

  it('runs a builder where the platform implies its selector, or a worker of the platform satisfies it', () => {
    expect(byName.get('linux-x86_64')!.builders).toEqual(['unix-tests', 'x86-release', 'cuda']);
    expect(byName.get('linux-arm64')!.builders).toEqual(['unix-tests']);
    expect(byName.get('linux')!.builders).toEqual(['unix-tests', 'x86-release', 'cuda']);
  });

  it('runs a name-list builder on the platforms of its named workers', () => {
    expect(byName.get('macos-arm64')!.builders).toEqual(['mac-app']);
    expect(byName.get('freebsd-amd64')).toMatchObject({ builders: ['bsd-ports'], live: [], short: true });
  });

  it('a platform no worker has is short with no workers', () => {
    const [windows] = platformCoverage([{ name: 'windows', select: { os: 'windows' }, tier: 2, redundancy: 1 }], WORKERS, BUILDERS);
    expect(windows).toMatchObject({ workers: [], live: [], builders: ['windows'], short: true });
  });
});

describe('lacking', () => {
  it('answers "what kinds of workers are we lacking?" for the short platforms, tier 1 first', () => {
    expect(lacking(platformCoverage(PLATFORMS, WORKERS, BUILDERS))).toEqual([
      { platform: 'linux-x86_64', tier: 1, select: { os: 'linux', arch: 'x86_64' }, need: 1 },
      { platform: 'freebsd-amd64', tier: 2, select: { os: 'freebsd', arch: 'x86_64' }, need: 1 },
      { platform: 'macos-arm64', tier: 2, select: { os: 'macos', arch: 'arm64' }, need: 1 },
    ]);
  });

  it('is empty on a fully covered farm', () => {
    const all = WORKERS.map((w) => ({ ...w, live: true }));
    expect(lacking(platformCoverage(PLATFORMS.filter((p) => p.name !== 'macos-arm64'), all, BUILDERS))).toEqual([]);
  });
});

describe('uncoverableBuilders', () => {
  it('lists builders whose selector no configured worker satisfies', () => {
    expect(uncoverableBuilders(BUILDERS, WORKERS)).toEqual(['windows']);
  });

  it('uses the dimensions it is given: a GPU only an agent reports is unknown to the config', () => {
    const configOnly = WORKERS.map((w) => ({ name: w.name, dimensions: { os: w.dimensions.os!, arch: w.dimensions.arch! } }));
    expect(uncoverableBuilders(BUILDERS, configOnly)).toEqual(['cuda', 'windows']);
  });

  it('lists a name-list builder naming no configured worker', () => {
    expect(uncoverableBuilders([{ name: 'gone', workers: ['retired-1'] }], WORKERS)).toEqual(['gone']);
  });
});

describe('orphanBuilders', () => {
  it('lists builders whose every worker is down, not those with none', () => {
    expect(orphanBuilders(BUILDERS, WORKERS)).toEqual(['bsd-ports']);
    const linuxDown = WORKERS.map((w) => (w.dimensions.os === 'linux' ? { ...w, live: false } : w));
    expect(orphanBuilders(BUILDERS, linuxDown)).toEqual(['unix-tests', 'x86-release', 'cuda', 'bsd-ports']);
  });
});
