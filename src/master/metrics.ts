/**
 * Prometheus metrics, kept from the event map like any other subscriber:
 * builds and steps counted as they finish, the queue, running builds and
 * connected workers tracked as sets of ids (so a repeated event cannot skew
 * a gauge), plus Node's default process metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MasterEventBus } from './events.js';

/** Seconds; steps run from a fraction of a second to hours. */
const STEP_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** What is true at start-up, before any event (requests queued and builds running from before a restart). */
export interface MetricsBaseline {
  queuedRequestIds: readonly number[];
  runningBuildIds: readonly number[];
  connectedWorkers: readonly string[];
}

/** The master's metrics. */
export interface MasterMetrics {
  /** Seeds the gauges from the store at start-up; later events keep them current. */
  seed(baseline: MetricsBaseline): void;
  /** Stops listening to events (the metrics stay registered). */
  close(): void;
}

/** Registers Shepherd's metrics on `registry` and keeps them from `events`. */
export function createMetrics(events: MasterEventBus, registry: Registry): MasterMetrics {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const buildsTotal = new Counter({
    name: 'shepherd_builds_total',
    help: 'Builds finished, by builder and result (a RETRY counts as one build).',
    labelNames: ['builder', 'result'] as const,
    registers,
  });
  const stepsTotal = new Counter({
    name: 'shepherd_steps_total',
    help: 'Steps finished, by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const stepDuration = new Histogram({
    name: 'shepherd_step_duration_seconds',
    help: 'How long steps ran.',
    buckets: STEP_DURATION_BUCKETS,
    registers,
  });
  const queueLength = new Gauge({ name: 'shepherd_queue_length', help: 'Build requests waiting for a worker.', registers });
  const workersConnected = new Gauge({ name: 'shepherd_workers_connected', help: 'Workers connected now.', registers });
  const buildsRunning = new Gauge({ name: 'shepherd_builds_running', help: 'Builds running now.', registers });

  const queued = new Set<number>();
  const running = new Set<number>();
  const connected = new Set<string>();
  const update = () => {
    queueLength.set(queued.size);
    buildsRunning.set(running.size);
    workersConnected.set(connected.size);
  };
  update();

  const unsubscribe = [
    events.on('build:queued', ({ request }) => {
      queued.add(request.id);
      update();
    }),
    events.on('request:cancelled', ({ request }) => {
      queued.delete(request.id);
      update();
    }),
    events.on('build:started', ({ build, request }) => {
      queued.delete(request.id);
      running.add(build.id);
      update();
    }),
    events.on('build:finished', ({ build, request, requeued }) => {
      running.delete(build.id);
      if (requeued) queued.add(request.id);
      buildsTotal.inc({ builder: build.builder, result: build.result ?? 'EXCEPTION' });
      update();
    }),
    events.on('step:finished', ({ step, durationMs }) => {
      stepsTotal.inc({ result: step.result ?? 'EXCEPTION' });
      stepDuration.observe(durationMs / 1000);
    }),
    events.on('worker:connected', ({ worker }) => {
      connected.add(worker);
      update();
    }),
    events.on('worker:disconnected', ({ worker }) => {
      connected.delete(worker);
      update();
    }),
  ];

  return {
    seed(baseline) {
      for (const id of baseline.queuedRequestIds) queued.add(id);
      for (const id of baseline.runningBuildIds) running.add(id);
      for (const name of baseline.connectedWorkers) connected.add(name);
      update();
    },
    close() {
      for (const off of unsubscribe) off();
    },
  };
}
