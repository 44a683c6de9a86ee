/**
 * The farm-health gauges over the real coordinator: the metrics text a
 * scrape gets holds each gauge with the values `readHealth` decides.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHealth } from '../api/routes/health.js';
import { createTestControl, type TestControl } from '../api/test-control.js';
import { ManualClock } from '../clock.js';
import { registerHealthMetrics } from './health-metrics.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'lx-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'lx-2', secret_env: 'W2', dimensions: { os: 'linux', arch: 'x86_64' } },
  ],
  builders: [{ name: 'lib', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] }],
  platforms: [{ name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 }],
};

let control: TestControl;
let registry: Registry;
let clock: ManualClock;
let reads: number;

beforeEach(async () => {
  control = await createTestControl({ config: CONFIG });
  registry = new Registry();
  clock = new ManualClock(Date.now());
  reads = 0;
  registerHealthMetrics(
    registry,
    () => {
      reads++;
      return readHealth(control, clock.now());
    },
    () => clock.now(),
  );
});
afterEach(async () => {
  await control.close();
});

describe('farm health metrics', () => {
  it('exposes the score, live workers and short marker per platform, workers per state and red builders', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    const text = await registry.metrics();
    expect(text).toContain('shepherd_farm_health_score 75\n');
    expect(text).toContain('shepherd_platform_live_workers{platform="linux-x86_64"} 1\n');
    expect(text).toContain('shepherd_platform_short{platform="linux-x86_64"} 1\n');
    expect(text).toContain('shepherd_workers{state="idle"} 1\n');
    expect(text).toContain('shepherd_workers{state="offline"} 1\n');
    expect(text).toContain('shepherd_builders_red_for_long 0\n');
    // One read serves every gauge of the scrape.
    expect(reads).toBe(1);
  });

  it('reuses a read for scrapes a few seconds apart, then reads again', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await registry.metrics();
    await control.connect('lx-2', { os: 'linux', arch: 'x86_64' });
    expect(await registry.metrics()).toContain('shepherd_platform_short{platform="linux-x86_64"} 1\n');
    expect(reads).toBe(1);
    clock.advance(5_000);
    const text = await registry.metrics();
    expect(text).toContain('shepherd_platform_short{platform="linux-x86_64"} 0\n');
    expect(text).toContain('shepherd_farm_health_score 100\n');
    expect(reads).toBe(2);
  });

  it('counts a builder red for a week', async () => {
    const { build } = await control.startBuild('lib', 'lx-1');
    const failed = await control.finishBuild(build.id, 'FAILURE');
    clock.advance(failed.finishedAt! + 7 * 86_400_000 - clock.now());
    expect(await registry.metrics()).toContain('shepherd_builders_red_for_long 1\n');
  });
});
