/**
 * One run at a time, triggered from timers and events: a trigger while a
 * run is queued adds nothing (the queued run will see the newest state);
 * a trigger during a run queues one more. The fleet, digest and
 * applications services decide on it; tests wait on `settled()` instead of
 * sleeping.
 */
export class SerialRuns {
  readonly #run: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #queued = false;
  #stopped = false;

  /** `onError` gets what a run threw (the runner keeps going). */
  constructor(run: () => Promise<void>, onError: (error: unknown) => void) {
    this.#run = run;
    this.#onError = onError;
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
      try {
        await this.#run();
      } catch (error) {
        this.#onError(error);
      }
    });
  }

  /** Resolves once the run in flight (if any) has ended. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** No more runs; resolves once the one in flight has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
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
