/**
 * The platform a test ran on, stored with each result so flakiness ("failed
 * and passed on the same platform") needs no join: the configured platform
 * the worker counts for (`platformOfWorker`), else its dimensions themselves
 * (`arch=s390x os=linux`), so two workers without a configured platform are
 * the same platform only when they are the same kind of machine.
 */
import type { PlatformConfig } from '../config/schema.js';
import { OTHER_PLATFORM, platformOfWorker } from '../fleet/queue-waits.js';

/** The platform name to store with a worker's test results; null when it has no dimensions at all. */
export function testPlatform(platforms: readonly Pick<PlatformConfig, 'name' | 'select' | 'tier'>[], dimensions: Readonly<Record<string, string>>): string | null {
  const configured = platformOfWorker(platforms, dimensions);
  if (configured !== OTHER_PLATFORM) return configured;
  const keys = Object.keys(dimensions).sort();
  return keys.length === 0 ? null : keys.map((key) => `${key}=${dimensions[key]}`).join(' ');
}
