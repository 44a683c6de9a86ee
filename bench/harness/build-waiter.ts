/**
 * Waiting for builds through the event stream: a request is done when a
 * `build:finished` event names it and does not say it was queued again.
 */
import type { EventStream, StreamEvent } from './event-stream.js';

/** The parts of a `build:finished` summary the workloads read. */
export interface FinishedBuild {
  requestId: number;
  buildId: number;
  result: string;
  receivedAt: number;
}

function asFinished(event: StreamEvent): FinishedBuild | undefined {
  if (event.name !== 'build:finished' || event.data.requeued === true) return undefined;
  return {
    requestId: Number(event.data.request_id),
    buildId: Number(event.data.build_id),
    result: String(event.data.result),
    receivedAt: event.receivedAt,
  };
}

/** Resolves when the build of request `requestId` has finished. */
export async function waitForBuild(events: EventStream, requestId: number, timeoutMs: number): Promise<FinishedBuild> {
  const event = await events.waitFor(`build:finished of request ${requestId}`, (e) => asFinished(e)?.requestId === requestId, timeoutMs);
  return asFinished(event)!;
}

/** Collects the builds of many requests; `done` resolves once all `expected` requests have finished. */
export class BuildCollector {
  readonly finished = new Map<number, FinishedBuild>();
  readonly done: Promise<void>;
  #resolve!: () => void;
  readonly #off: () => void;

  constructor(events: EventStream, private readonly expected: number) {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    this.#off = events.onEvent((event) => {
      const build = asFinished(event);
      if (!build) return;
      this.finished.set(build.requestId, build);
      if (this.finished.size >= this.expected) {
        this.#off();
        this.#resolve();
      }
    });
  }

  /** `done`, or an error naming how many were still missing after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.expected - this.finished.size} of ${this.expected} builds not finished after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.#off();
    }
  }
}
