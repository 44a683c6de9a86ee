/**
 * One run at a time, triggered from timers and events: a trigger while a
 * run is queued adds nothing (the queued run will see the newest state);
 * a trigger during a run queues one more. The fleet, digest and
 * applications services decide on it; tests wait on `settled()` instead of
 * sleeping.
 *
 * With `busyShare`, a run that took long (over `SLOW_RUN_MS` of wall time,
 * as on a farm of thousands of workers) is followed by a rest, so that runs
 * take at most that share of the event loop however often they are
 * triggered: 5,000 workers reconnecting after a restart trigger 5,000 runs,
 * each reading the whole fleet. This paces by the run's real cost, measured
 * on the real clock; it is not timeout logic, and runs of a small farm
 * (tests included) never rest.
 */
const SLOW_RUN_MS = 25;

export class SerialRuns {
  readonly #run: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #queued = false;
  #stopped = false;
  readonly #busyShare: number;
  /** Ends the rest in progress (stop() does not wait it out). */
  #wake: (() => void) | null = null;

  /** `onError` gets what a run threw (the runner keeps going). */
  constructor(run: () => Promise<void>, onError: (error: unknown) => void, options: { busyShare?: number } = {}) {
    this.#run = run;
    this.#onError = onError;
    this.#busyShare = options.busyShare ?? 1;
  }

  /** Set once `stop()` was called: runs in flight should stop early. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Queues a run after the one in flight, unless one is queued already. */
  trigger(): void {
    if (this.#stopped || this.#queued) return;
    this.#queued = true;
    this.#chain = this.#chain.then(async () => {
      this.#queued = false;
      if (this.#stopped) return;
      const started = performance.now();
      try {
        await this.#run();
      } catch (error) {
        this.#onError(error);
      }
      const took = performance.now() - started;
      if (this.#busyShare < 1 && took > SLOW_RUN_MS && !this.#stopped) await this.#rest(took * (1 / this.#busyShare - 1));
    });
  }

  #rest(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  /** Resolves once the run in flight (if any) has ended. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** No more runs; resolves once the one in flight has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#chain;
  }

  /** Resolves when no run is queued or in flight (a run may queue another: waits until the chain stops growing). */
  async settled(): Promise<void> {
    for (;;) {
      const current = this.#chain;
      await current;
      if (current === this.#chain && !this.#queued) return;
    }
  }
}
