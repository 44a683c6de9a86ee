/**
 * Running deliveries on their own: each is attempted now and retried with
 * exponential backoff on the injected Clock. Nothing here throws into the
 * caller, so a dead mail server or chat hook never blocks or fails a build;
 * a delivery that runs out of attempts is logged and reported as
 * `notify:failed`.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { MasterEventBus } from '../events.js';

/** The `notify.retry` settings (milliseconds). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  first_delay: number;
  max_delay: number;
}

/** The wait after the `failed`-th failed attempt (from 1): first_delay, doubling, capped at max_delay. */
export function retryDelay(policy: Pick<RetryPolicy, 'first_delay' | 'max_delay'>, failed: number): number {
  return Math.min(policy.max_delay, policy.first_delay * 2 ** Math.max(0, failed - 1));
}

/** One thing to deliver, attempted until it resolves or the attempts run out. */
export interface Delivery {
  /** The notifier's name, for logs and `notify:failed`. */
  notifier: string;
  buildId: number;
  /** What is delivered ("mail", "github status pending"...), for logs. */
  what: string;
  /** One attempt; rejects when it failed (an error with `permanent: true` is not retried). */
  send(signal: AbortSignal): Promise<void>;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
}

/** Dependencies of a DeliveryQueue. */
export interface DeliveryDeps {
  clock: Clock;
  logger: Logger;
  events: MasterEventBus;
  retry: RetryPolicy;
}

/** Runs deliveries with retries, and knows when all of them are done (`idle`). */
export class DeliveryQueue {
  readonly #deps: DeliveryDeps;
  readonly #abort = new AbortController();
  /** Attempts in flight plus other tracked work (preparing a notification). */
  #busy = 0;
  readonly #retries = new Set<TimerHandle>();
  #waiters: Waiter[] = [];
  #stopped = false;

  constructor(deps: DeliveryDeps) {
    this.#deps = deps;
  }

  /** Starts a delivery now; it retries on its own. Ignored once stopped. */
  deliver(delivery: Delivery): void {
    if (this.#stopped) return;
    this.#attempt(delivery, 1);
  }

  /** Counts `work` as busy until it settles (so `idle` waits for notifications still being prepared). Never rejects. */
  track(work: () => Promise<void>): void {
    this.#busy++;
    void (async () => {
      try {
        await work();
      } catch (error) {
        this.#deps.logger.error({ err: error }, 'preparing a notification failed');
      } finally {
        this.#busy--;
        this.#wake();
      }
    })();
  }

  /** Resolves when nothing is in flight; retries may still be waiting for their timer. */
  settled(): Promise<void> {
    return this.#until(() => this.#busy === 0);
  }

  /** Resolves when nothing is in flight and no retry is waiting. */
  idle(): Promise<void> {
    return this.#until(() => this.#busy === 0 && this.#retries.size === 0);
  }

  /** Cancels waiting retries, aborts HTTP attempts in flight and waits for them to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#retries) timer.cancel();
    this.#retries.clear();
    this.#abort.abort();
    this.#wake();
    await this.settled();
  }

  #attempt(delivery: Delivery, attempt: number): void {
    const { logger, retry } = this.#deps;
    const fields = { notifier: delivery.notifier, buildId: delivery.buildId, what: delivery.what, attempt };
    this.#busy++;
    const run = async () => {
      try {
        await delivery.send(this.#abort.signal);
        logger.debug(fields, 'notification delivered');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (this.#stopped) {
          logger.debug({ ...fields, reason }, 'notification abandoned: the master is stopping');
          return;
        }
        const permanent = (error as { permanent?: unknown }).permanent === true;
        if (permanent || attempt >= retry.attempts) {
          logger.error(
            { ...fields, attempts: retry.attempts, reason },
            permanent ? 'notification refused; not retrying' : 'notification failed; giving up',
          );
          this.#deps.events.emit('notify:failed', { notifier: delivery.notifier, buildId: delivery.buildId, error: reason });
          return;
        }
        const delayMs = retryDelay(retry, attempt);
        logger.warn({ ...fields, attempts: retry.attempts, reason, retryInMs: delayMs }, 'notification failed; will retry');
        const timer = this.#deps.clock.setTimeout(() => {
          this.#retries.delete(timer);
          if (!this.#stopped) this.#attempt(delivery, attempt + 1);
          this.#wake();
        }, delayMs);
        this.#retries.add(timer);
      } finally {
        this.#busy--;
        this.#wake();
      }
    };
    void run();
  }

  #until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ ready, resolve }));
  }

  #wake(): void {
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.ready()) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }
}
