/**
 * Following one build request through the master's event stream, as a pure
 * decision: given an event, what to tell the user and whether the request
 * is done. A request may run more than once (a build that ends RETRY puts it
 * back in the queue); it is done when a build finishes without a requeue or
 * the request is cancelled.
 */
import type { BuildJson, RequestJson } from '../master/api/schemas.js';
import { formatDuration } from './format.js';
import type { ServerSentEvent } from './sse.js';

/** The events `force --wait` subscribes to. */
export const TRACKED_EVENTS = ['build:started', 'step:finished', 'build:finished', 'request:cancelled'] as const;

/** What to do after an event. */
export type TrackerAction =
  | { type: 'none' }
  | { type: 'progress'; line: string }
  | { type: 'finished'; buildId: number; line: string }
  | { type: 'cancelled'; line: string };

interface EventData {
  request_id?: number;
  build_id?: number;
  builder?: string;
  number?: number;
  worker?: string;
  name?: string;
  result?: string | null;
  duration_ms?: number;
  requeued?: boolean;
}

/** Tracks one request's builds and turns events into progress lines. */
export class RequestTracker {
  /** The build running the request now, once known. */
  currentBuild: number | null = null;
  readonly #announced = new Set<number>();

  constructor(readonly requestId: number) {}

  /** The line for a build start, once per build (events and catch-up may both report it). */
  started(build: Pick<BuildJson, 'id' | 'builder' | 'number' | 'worker'>): TrackerAction {
    this.currentBuild = build.id;
    if (this.#announced.has(build.id)) return { type: 'none' };
    this.#announced.add(build.id);
    return { type: 'progress', line: `build ${build.builder} #${build.number} started on ${build.worker}` };
  }

  /** What the request's current state (fetched after a (re)connect) says. */
  caughtUp(request: Pick<RequestJson, 'state' | 'build_id' | 'result'>): TrackerAction {
    if (request.state === 'complete') {
      if (request.build_id !== null) return { type: 'finished', buildId: request.build_id, line: '' };
      return { type: 'cancelled', line: `request ${this.requestId} was cancelled before it started` };
    }
    return { type: 'none' };
  }

  /** What an event means for this request. */
  onEvent(message: ServerSentEvent): TrackerAction {
    let data: EventData;
    try {
      data = JSON.parse(message.data) as EventData;
    } catch {
      return { type: 'none' };
    }
    const label = `${data.builder} #${data.number}`;
    switch (message.event) {
      case 'build:started':
        if (data.request_id !== this.requestId || data.build_id === undefined) return { type: 'none' };
        return this.started({ id: data.build_id, builder: data.builder ?? '?', number: data.number ?? 0, worker: data.worker ?? '?' });
      case 'step:finished':
        if (data.build_id === undefined || data.build_id !== this.currentBuild) return { type: 'none' };
        return {
          type: 'progress',
          line: `  ${data.name}: ${data.result ?? '?'}${data.duration_ms !== undefined ? ` (${formatDuration(data.duration_ms)})` : ''}`,
        };
      case 'build:finished':
        if (data.request_id !== this.requestId || data.build_id === undefined) return { type: 'none' };
        if (data.requeued) {
          this.currentBuild = null;
          return { type: 'progress', line: `build ${label} ended ${data.result}; request ${this.requestId} is queued again` };
        }
        return { type: 'finished', buildId: data.build_id, line: `build ${label} finished: ${data.result}` };
      case 'request:cancelled':
        if (data.request_id !== this.requestId) return { type: 'none' };
        return { type: 'cancelled', line: `request ${this.requestId} was cancelled before it started` };
      default:
        return { type: 'none' };
    }
  }
}
