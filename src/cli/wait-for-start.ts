/**
 * `force` without --wait: wait until a worker has taken the request, so the
 * build's id can be printed (and handed to `shepherd log --follow`). A CLI
 * waiting for one state change polls the request, backing off to once a
 * second; `--wait` uses the event stream instead. Each new reason the master
 * gives for the wait (an on-demand pool backing off, the budget spent) is
 * reported as it appears.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { BuildDetailJson, RequestJson } from '../master/api/schemas.js';
import { getBuild, getRequest, type MasterConnection } from './client.js';
import { waitingLine } from './request-waiting.js';

/** The started build, or the request when it was cancelled before any build started. */
export type StartOutcome = { kind: 'build'; build: BuildDetailJson } | { kind: 'cancelled'; request: RequestJson };

/** Polls a request until it has a build (or was cancelled); `progress` hears once that it is still waiting, and each reason why. */
export async function waitForStart(
  conn: MasterConnection,
  requestId: number,
  progress: (line: string) => void,
  { firstDelayMs = 25, noteAfterMs = 2000 } = {},
): Promise<StartOutcome> {
  const since = Date.now();
  let wait = firstDelayMs;
  let noted = false;
  let reason: string | null = null;
  for (;;) {
    const request = await getRequest(conn, requestId);
    if (request.build_id !== null) return { kind: 'build', build: await getBuild(conn, request.build_id) };
    if (request.state === 'complete') return { kind: 'cancelled', request };
    if (!noted && Date.now() - since >= noteAfterMs) {
      progress(`request ${requestId} is waiting for a worker (Ctrl-C stops waiting; the request stays queued)`);
      noted = true;
    }
    const line = waitingLine(request, reason);
    if (line) progress(line);
    reason = request.waiting ?? null;
    await delay(wait);
    wait = Math.min(wait * 2, 1000);
  }
}
