/**
 * The farm's health over time: a sample of the score (the farm's and each
 * platform's) every `fleet.health.sample_every`, so "is the farm getting
 * better?" has an answer (`GET /api/v1/health/history`, the Health page).
 *
 * Time is cut into buckets of `every` ms (`floor(now / every) * every`); a
 * sample is taken at each bucket's start on the master's Clock, and at
 * start-up when the current bucket has none yet. The store keeps one sample
 * per bucket, so a restart (or a second master) never records a bucket
 * twice. A failed read or write is logged and the next boundary tries again:
 * the history may have a gap, the master never fails for it.
 */
import type { Logger } from 'pino';
import type { HealthJson } from '../api/schemas.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Millis } from '../domain.js';
import type { HealthSample, Store } from '../store/store.js';

/** What the health history needs from the master. */
export interface HealthHistoryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The bucket length (`fleet.health.sample_every`). */
  every: Millis;
  /** The farm's health now (`readHealth(control, clock.now())`). */
  read(): Promise<HealthJson>;
}

/** The running health history. */
export interface HealthHistory {
  /** Cancels the timer and waits for the sample in flight. */
  stop(): Promise<void>;
  /** Resolves when no sample is queued or being taken (tests wait on it instead of sleeping). */
  settled(): Promise<void>;
}

/** The start of the bucket `at` falls in. */
export function bucketOf(at: Millis, every: Millis): Millis {
  return Math.floor(at / every) * every;
}

/** The sample of a health document for a bucket: the farm's score and each platform's by name. */
export function sampleOf(health: Pick<HealthJson, 'score' | 'platforms'>, bucket: Millis, at: Millis): HealthSample {
  return { bucket, at, score: health.score, platforms: Object.fromEntries(health.platforms.map((p) => [p.name, p.score])) };
}

/** Starts sampling: one sample now unless the current bucket has one, then one at each bucket boundary. */
export function startHealthHistory(deps: HealthHistoryDeps): HealthHistory {
  const { store, clock, every } = deps;
  if (!(every > 0)) throw new Error(`fleet.health.sample_every: expected a duration above 0, got ${every}`);
  const log = deps.logger.child({ component: 'health-history' });
  let stopped = false;
  let timer: TimerHandle | null = null;
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;

  /** Takes the sample of the bucket `at` falls in; `checkFirst`: skip the read when the bucket has one already. */
  async function sample(at: Millis, checkFirst: boolean): Promise<void> {
    const bucket = bucketOf(at, every);
    try {
      if (checkFirst && (await store.listHealthSamples(bucket)).some((s) => s.bucket === bucket)) return;
      const health = await deps.read();
      if (!(await store.recordHealthSample(sampleOf(health, bucket, at)))) log.debug({ bucket }, 'health sample already recorded');
    } catch (error) {
      log.error({ err: error, bucket }, 'health sample failed; trying again at the next boundary');
    }
  }

  /** Queues a sample after the one in flight (samples are taken in bucket order). */
  function queue(at: Millis, checkFirst: boolean): void {
    pending += 1;
    chain = chain.then(async () => {
      pending -= 1;
      if (!stopped) await sample(at, checkFirst);
    });
  }

  /**
   * Arms the timer for the first boundary after `after`. It re-arms before
   * sampling, so a slow sample never skips a bucket; a timer firing a little
   * early still counts for the boundary it was set for.
   */
  function arm(after: Millis): void {
    if (stopped) return;
    const next = bucketOf(after, every) + every;
    timer = clock.setTimeout(function boundary() {
      // The time the boundary fired at, not when the queued sample runs: its bucket is this one.
      const at = Math.max(clock.now(), next);
      arm(at);
      queue(at, false);
    }, next - clock.now());
  }

  const start = clock.now();
  queue(start, true);
  arm(start);

  return {
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = null;
      await chain;
    },
    async settled() {
      for (;;) {
        const current = chain;
        await current;
        if (current === chain && pending === 0) return;
      }
    },
  };
}
