/**
 * The simulated farm: platforms with tiers and redundancy, workers with
 * admins, builders with dimension selectors, and the fleet settings, as the
 * master's config would give them. Generated from a seed, so every run of
 * the simulator sees the same farm.
 */
import type { PlatformConfig } from '../../config/schema.js';
import type { Millis } from '../../domain.js';
import type { WorkerSelector } from '../../scheduling/match.js';
import { createPrng } from './prng.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** A worker of the simulated farm, as configured. */
export interface FarmWorker {
  name: string;
  platform: string;
  dimensions: Record<string, string>;
  admins: string[];
  /** Its own `missing_after`, when it overrides the fleet's. */
  missingAfter?: Millis;
}

/** A builder of the simulated farm, as configured. */
export interface FarmBuilder {
  name: string;
  platform: string;
  workers: WorkerSelector;
}

/** Every threshold the decisions use, as the config would set them. */
export interface FarmSettings {
  missingAfter: Millis;
  remindEvery: Millis;
  orphanAfter: Millis;
  announce: string[];
  redFor: Millis;
  staleAfter: Millis;
  suspectWindow: Millis;
  suspectThreshold: number;
  /** How often health, suspects and coverage are decided (the fleet's own timer comes on top). */
  decisionInterval: Millis;
}

/** The whole farm. */
export interface Farm {
  platforms: PlatformConfig[];
  workers: FarmWorker[];
  builders: FarmBuilder[];
  settings: FarmSettings;
}

/** Platform, dimensions, tier, redundancy, how many workers and builders it has. */
const SHAPE: { name: string; os: string; arch: string; tier: number; redundancy: number; workers: number; builders: number }[] = [
  { name: 'linux-x86_64', os: 'linux', arch: 'x86_64', tier: 1, redundancy: 4, workers: 22, builders: 40 },
  { name: 'linux-arm64', os: 'linux', arch: 'arm64', tier: 1, redundancy: 2, workers: 8, builders: 15 },
  { name: 'macos-arm64', os: 'macos', arch: 'arm64', tier: 1, redundancy: 2, workers: 8, builders: 15 },
  { name: 'freebsd-x86_64', os: 'freebsd', arch: 'x86_64', tier: 1, redundancy: 1, workers: 2, builders: 5 },
  { name: 'windows-x86_64', os: 'windows', arch: 'x86_64', tier: 2, redundancy: 2, workers: 10, builders: 12 },
  { name: 'linux-ppc64le', os: 'linux', arch: 'ppc64le', tier: 2, redundancy: 1, workers: 4, builders: 6 },
  { name: 'netbsd-x86_64', os: 'netbsd', arch: 'x86_64', tier: 3, redundancy: 1, workers: 6, builders: 7 },
];

/** The default settings: the config's defaults plus the health thresholds the simulator checks. */
export const DEFAULT_SETTINGS: FarmSettings = {
  missingAfter: HOUR,
  remindEvery: DAY,
  orphanAfter: 14 * DAY,
  announce: ['Buildbot volunteers <buildbot-volunteers@example.org>'],
  redFor: 3 * DAY,
  staleAfter: DAY,
  suspectWindow: WEEK,
  suspectThreshold: 3,
  decisionInterval: HOUR,
};

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The farm: 60 workers over seven platforms (tiers 1 to 3), each with one
 * or two admins drawn from 40 volunteers (some run several machines), and
 * 100 builders, each selecting its platform's dimensions.
 */
export function createFarm(seed: number, settings: FarmSettings = DEFAULT_SETTINGS): Farm {
  const prng = createPrng(seed ^ 0x5eed);
  const volunteers = Array.from({ length: 40 }, (_, i) => `Volunteer ${pad(i + 1)} <volunteer${pad(i + 1)}@example.org>`);
  const platforms: PlatformConfig[] = SHAPE.map((s) => ({ name: s.name, select: { os: s.os, arch: s.arch }, tier: s.tier, redundancy: s.redundancy }));
  const workers: FarmWorker[] = [];
  const builders: FarmBuilder[] = [];
  for (const s of SHAPE) {
    for (let i = 1; i <= s.workers; i++) {
      const first = prng.pick(volunteers);
      const second = prng.next() < 0.3 ? prng.pick(volunteers) : first;
      workers.push({
        name: `${s.name}-${pad(i)}`,
        platform: s.name,
        dimensions: { os: s.os, arch: s.arch, cores: String(prng.pick([4, 8, 16, 32])) },
        admins: second === first ? [first] : [first, second],
      });
    }
    for (let i = 1; i <= s.builders; i++) builders.push({ name: `build-${s.name}-${pad(i)}`, platform: s.name, workers: { os: s.os, arch: s.arch } });
  }
  return { platforms, workers, builders, settings: { ...settings } };
}
