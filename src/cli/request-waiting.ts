/**
 * Why a queued request still waits, as the master says it (`waiting: pool
 * cloud is backing off after 2 failed starts until 12:40 UTC`): `force` prints
 * each new reason while it waits, so nobody stares at a silent terminal while
 * an on-demand pool backs off or the budget is spent.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RequestJson } from '../master/api/schemas.js';
import { getRequest, type MasterConnection } from './client.js';

/** The line to print when a queued request's reason changed (`request 7 waiting: ...`); undefined when there is nothing new. */
export function waitingLine(request: Pick<RequestJson, 'id' | 'state' | 'waiting'>, previous: string | null): string | undefined {
  if (request.state !== 'queued' || !request.waiting || request.waiting === previous) return undefined;
  return `request ${request.id} ${request.waiting}`;
}

/**
 * `force --wait` follows events, which say nothing about why a request waits:
 * polls the request (backing off to every `maxDelayMs`) and reports each new
 * reason until it leaves the queue or `signal` aborts.
 */
export async function watchWaiting(
  conn: MasterConnection,
  requestId: number,
  progress: (line: string) => void,
  signal: AbortSignal,
  { firstDelayMs = 500, maxDelayMs = 5000 } = {},
): Promise<void> {
  let previous: string | null = null;
  let wait = firstDelayMs;
  while (!signal.aborted) {
    try {
      await delay(wait, undefined, { signal });
      const request = await getRequest(conn, requestId);
      if (signal.aborted || request.state !== 'queued') return;
      const line = waitingLine(request, previous);
      if (line) progress(line);
      previous = request.waiting ?? null;
    } catch {
      // Aborted, or the master is away: the event wait reports that; this is only a hint.
      if (signal.aborted) return;
    }
    wait = Math.min(wait * 2, maxDelayMs);
  }
}
