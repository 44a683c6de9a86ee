/**
 * Which worker takes which build request: pure decisions, no I/O.
 */

/** A builder's `workers:` — a list of worker names, or a dimension selector (every key must match). */
export type WorkerSelector = readonly string[] | Readonly<Record<string, string>>;

/** Whether a worker (by name and effective dimensions) may run a builder. */
export function workerMatchesBuilder(
  selector: WorkerSelector,
  workerName: string,
  dimensions: Readonly<Record<string, string>>,
): boolean {
  if (Array.isArray(selector)) return selector.includes(workerName);
  for (const [key, value] of Object.entries(selector as Record<string, string>)) {
    if (dimensions[key] !== value) return false;
  }
  return true;
}

/** A connected worker's capacity, as the matcher sees it. */
export interface WorkerSlot {
  name: string;
  dimensions: Readonly<Record<string, string>>;
  maxBuilds: number;
  running: number;
  /** Builders with a build running on it now: they share one directory there, so one build each at a time. */
  busyBuilders: ReadonlySet<string>;
}

/** A queued request, as the matcher sees it. */
export interface PendingRequest {
  id: number;
  builder: string;
}

/** One decision: this request starts on this worker. */
export interface Assignment {
  requestId: number;
  worker: string;
}

/**
 * Assigns queued requests (already in serving order: priority, then
 * first-in first-out) to workers with free capacity. A request no worker can
 * take now waits without blocking requests behind it that other workers can
 * take. Among the workers that can take a request, the least loaded (by share
 * of its capacity in use) wins, then the name, so that load spreads and the
 * outcome is deterministic. As in Buildbot, a worker runs at most one build
 * of a builder at a time (the builder's directory on it is shared).
 */
export function assignRequests(
  requests: readonly PendingRequest[],
  selectors: ReadonlyMap<string, WorkerSelector>,
  workers: readonly WorkerSlot[],
): Assignment[] {
  const running = new Map(workers.map((w) => [w.name, w.running]));
  const busy = new Map(workers.map((w) => [w.name, new Set(w.busyBuilders)]));
  const assignments: Assignment[] = [];
  for (const request of requests) {
    const selector = selectors.get(request.builder);
    if (!selector) continue;
    let best: WorkerSlot | undefined;
    let bestLoad = Infinity;
    for (const worker of workers) {
      const count = running.get(worker.name)!;
      if (count >= worker.maxBuilds || busy.get(worker.name)!.has(request.builder)) continue;
      if (!workerMatchesBuilder(selector, worker.name, worker.dimensions)) continue;
      const load = count / worker.maxBuilds;
      if (load < bestLoad || (load === bestLoad && best && worker.name < best.name)) {
        best = worker;
        bestLoad = load;
      }
    }
    if (!best) continue;
    running.set(best.name, running.get(best.name)! + 1);
    busy.get(best.name)!.add(request.builder);
    assignments.push({ requestId: request.id, worker: best.name });
  }
  return assignments;
}
