/**
 * `force --wait`: follow a request until its final build ends, over the
 * event stream, reconnecting (and catching up from the request's state) when
 * the stream drops, e.g. across a master restart.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { BuildDetailJson, RequestJson } from '../master/api/schemas.js';
import { getBuild, getRequest, subscribeEvents, type EventSubscription, type MasterConnection } from './client.js';
import { CliError } from './errors.js';
import { RequestTracker, TRACKED_EVENTS, type TrackerAction } from './request-tracker.js';

/** How a wait ended: the final build, or the request was cancelled before a build ran. */
export type WaitOutcome = { kind: 'build'; build: BuildDetailJson } | { kind: 'cancelled'; request: RequestJson };

/** Options of `waitForRequest`. */
export interface WaitOptions {
  /** A subscription opened before the request was queued, so no event is missed. */
  subscription?: EventSubscription;
  progress: (line: string) => void;
  /** Consecutive failed reconnects before giving up (default 10, about a minute). */
  maxReconnects?: number;
}

/** Subscribes to the events `waitForRequest` needs; open it before forcing. */
export function subscribeForWait(conn: MasterConnection): Promise<EventSubscription> {
  return subscribeEvents(conn, TRACKED_EVENTS);
}

/** Waits for a request's final build (or its cancellation), reporting progress. */
export async function waitForRequest(conn: MasterConnection, requestId: number, options: WaitOptions): Promise<WaitOutcome> {
  const tracker = new RequestTracker(requestId);
  const maxReconnects = options.maxReconnects ?? 10;
  let subscription = options.subscription;
  let failures = 0;

  // Resolves an action into an outcome, or undefined to keep going.
  const act = async (action: TrackerAction): Promise<WaitOutcome | undefined> => {
    if (action.type === 'none') return undefined;
    if (action.line) options.progress(action.line);
    if (action.type === 'progress') return undefined;
    if (action.type === 'cancelled') return { kind: 'cancelled', request: await getRequest(conn, requestId) };
    return { kind: 'build', build: await getBuild(conn, action.buildId) };
  };

  // A subscription opened before the request was queued has every event in order; only a new one needs catching up.
  let catchUp = subscription === undefined;
  for (;;) {
    try {
      subscription ??= await subscribeForWait(conn);
      if (catchUp) {
        // Whatever happened while we were not subscribed shows in the request's state.
        const request = await getRequest(conn, requestId);
        if (request.state === 'claimed' && request.build_id !== null) {
          const done = await act(tracker.started(await getBuild(conn, request.build_id)));
          if (done) return done;
        }
        const caught = await act(tracker.caughtUp(request));
        if (caught) return caught;
      }
      catchUp = true;
      failures = 0;
      for await (const message of subscription) {
        const done = await act(tracker.onEvent(message));
        if (done) return done;
      }
      options.progress('the event stream ended; reconnecting');
      await delay(500);
    } catch (error) {
      // The API said no (unknown request...): retrying would not help.
      if (error instanceof CliError && error.code) throw error;
      if (++failures > maxReconnects) throw error;
      options.progress(`lost the master (${(error as Error).message}); reconnecting`);
      await delay(Math.min(500 * 2 ** (failures - 1), 10_000));
    } finally {
      subscription?.close();
      subscription = undefined;
    }
  }
}
