import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Build, BuildRequest } from './domain.js';
import { MasterEventBus } from './events.js';
import { createMetrics } from './metrics.js';

const request = (id: number): BuildRequest => ({
  id,
  builder: 'b',
  priority: 0,
  properties: {},
  reason: 'r',
  submittedBy: null,
  submittedAt: 0,
  state: 'queued',
  buildId: null,
  result: null,
  scheduler: null,
  collapseKey: null,
  patchId: null,
  changeIds: [],
});
const build = (id: number, requestId: number, result: Build['result'] = null): Build => ({
  id,
  requestId,
  builder: 'b',
  number: id,
  worker: 'w',
  state: result ? 'finished' : 'running',
  result,
  properties: {},
  startedAt: 0,
  finishedAt: null,
  summary: null,
});

async function value(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values[0]?.value ?? 0;
}

describe('createMetrics', () => {
  it('keeps the gauges from events, including a RETRY going back to the queue', async () => {
    const events = new MasterEventBus();
    const registry = new Registry();
    createMetrics(events, registry);
    events.emit('build:queued', { request: request(1) });
    events.emit('build:queued', { request: request(2) });
    expect(await value(registry, 'shepherd_queue_length')).toBe(2);
    events.emit('build:started', { build: build(10, 1), request: request(1) });
    expect(await value(registry, 'shepherd_queue_length')).toBe(1);
    expect(await value(registry, 'shepherd_builds_running')).toBe(1);
    events.emit('build:finished', { build: build(10, 1, 'RETRY'), request: request(1), requeued: true });
    expect(await value(registry, 'shepherd_queue_length')).toBe(2);
    expect(await value(registry, 'shepherd_builds_running')).toBe(0);
    events.emit('request:cancelled', { request: request(2) });
    expect(await value(registry, 'shepherd_queue_length')).toBe(1);
    expect(await registry.getSingleMetricAsString('shepherd_builds_total')).toContain('{builder="b",result="RETRY"} 1');
  });

  it('counts a worker once however often it connects', async () => {
    const events = new MasterEventBus();
    const registry = new Registry();
    const metrics = createMetrics(events, registry);
    events.emit('worker:connected', { worker: 'w', info: {} });
    events.emit('worker:connected', { worker: 'w', info: {} });
    expect(await value(registry, 'shepherd_workers_connected')).toBe(1);
    events.emit('worker:disconnected', { worker: 'w', reason: 'bye' });
    expect(await value(registry, 'shepherd_workers_connected')).toBe(0);
    metrics.seed({ queuedRequestIds: [1, 2, 3], runningBuildIds: [4], connectedWorkers: [] });
    expect(await value(registry, 'shepherd_queue_length')).toBe(3);
    metrics.close();
    events.emit('build:queued', { request: request(9) });
    expect(await value(registry, 'shepherd_queue_length')).toBe(3);
  });
});
