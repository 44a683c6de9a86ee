/**
 * The queue of build requests waiting for a worker, in serving order:
 * priority (higher first), then submission time, then id. The store is the
 * record; this is the coordinator's in-memory mirror of it, so that matching
 * requests to workers does not reread the whole queue after every build.
 */
import type { BuildRequest } from '../domain.js';

/** Whether `a` is served before `b`. */
export function servedBefore(a: BuildRequest, b: BuildRequest): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt < b.submittedAt;
  return a.id < b.id;
}

/** Queued requests kept sorted in serving order. */
export class RequestQueue {
  readonly #items: BuildRequest[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The requests in serving order (do not modify). */
  values(): readonly BuildRequest[] {
    return this.#items;
  }

  /** Adds (or replaces) a request at its place in serving order. */
  add(request: BuildRequest): void {
    this.remove(request.id);
    let low = 0;
    let high = this.#items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (servedBefore(this.#items[mid]!, request)) low = mid + 1;
      else high = mid;
    }
    this.#items.splice(low, 0, request);
  }

  /** Removes a request; returns whether it was queued. */
  remove(id: number): boolean {
    const index = this.#items.findIndex((r) => r.id === id);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }
}
