/**
 * `try --wait`: follow several requests (one per builder) to their final
 * builds at once, each over its own event subscription, reusing
 * `waitForRequest`.
 */
import type { RequestJson } from '../master/api/schemas.js';
import type { EventSubscription, MasterConnection } from './client.js';
import { exitStatusForResult } from './exit-status.js';
import { EXIT } from './errors.js';
import { subscribeForWait, waitForRequest, type WaitOutcome } from './wait-for-request.js';

/** Opens `count` subscriptions before queueing, so no request's events are missed. */
export async function subscribeForWaits(conn: MasterConnection, count: number): Promise<EventSubscription[]> {
  const subscriptions: EventSubscription[] = [];
  try {
    for (let i = 0; i < count; i++) subscriptions.push(await subscribeForWait(conn));
  } catch (error) {
    for (const s of subscriptions) s.close();
    throw error;
  }
  return subscriptions;
}

/** Interleaved step lines say which builder they are about; the others already name the build. */
export function labelProgress(builder: string, line: string): string {
  return line.startsWith('  ') ? `  [${builder}] ${line.trimStart()}` : line;
}

/**
 * Waits for every request's outcome, in the requests' order. `subscriptions[i]`
 * (opened before queueing) serves `requests[i]`; spare ones are closed. Every
 * wait runs to its end before the first failure, if any, is thrown.
 */
export async function waitForRequests(
  conn: MasterConnection,
  requests: readonly RequestJson[],
  options: { subscriptions?: readonly EventSubscription[]; progress: (line: string) => void },
): Promise<WaitOutcome[]> {
  for (const spare of options.subscriptions?.slice(requests.length) ?? []) spare.close();
  const several = requests.length > 1;
  const settled = await Promise.allSettled(
    requests.map((request, i) =>
      waitForRequest(conn, request.id, {
        ...(options.subscriptions?.[i] ? { subscription: options.subscriptions[i] } : {}),
        progress: several ? (line) => options.progress(labelProgress(request.builder, line)) : options.progress,
      }),
    ),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<WaitOutcome>).value);
}

/** 0 only when every request ended in a SUCCESS build; a cancelled request is a failure. */
export function exitStatusForOutcomes(outcomes: readonly WaitOutcome[]): number {
  const failed = outcomes.some((o) => o.kind === 'cancelled' || exitStatusForResult(o.build.result) !== EXIT.ok);
  return failed ? EXIT.failure : EXIT.ok;
}
