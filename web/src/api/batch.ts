/**
 * Coalescing bursts: a busy farm sends hundreds of events a second, and each
 * would invalidate the same few queries. `Batcher` collects the keys and
 * flushes them at most once per interval (the first flush after a quiet
 * period is immediate, later ones trail), so views refresh promptly without
 * refetch storms that cancel each other.
 */

/** Timers, injectable for tests. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

/** Collects items and hands them to `flush` in batches, at most once per `intervalMs`. */
export class Batcher<T> {
  #pending = new Map<string, T>();
  #timer = false;
  #lastFlush = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: (items: T[]) => void,
    private readonly timers: Timers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) },
  ) {}

  /** Adds an item; items with the same key are merged (the last one is kept). */
  add(key: string, item: T): void {
    this.#pending.set(key, item);
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastFlush + this.intervalMs - this.timers.now());
    this.#timer = true;
    this.timers.setTimeout(() => this.#run(), wait);
  }

  #run(): void {
    this.#timer = false;
    this.#lastFlush = this.timers.now();
    const items = [...this.#pending.values()];
    this.#pending.clear();
    if (items.length) this.flush(items);
  }
}
