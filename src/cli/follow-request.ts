/**
 * What `force` and `rebuild` do once they know how to queue: subscribe first
 * when following (so not even a fast build's events are missed), queue, then
 * print the request (`--queued`), the build once started (default), or the
 * build's end (`--wait`), and set the exit status from its result.
 */
import type { BuildJson, RequestJson } from '../master/api/schemas.js';
import { formatBuildSummary } from './build-table.js';
import type { MasterConnection } from './client.js';
import { EXIT, type CliContext } from './errors.js';
import { exitStatusForResult } from './exit-status.js';
import { note, printJson, writeStdout } from './output.js';
import { watchWaiting } from './request-waiting.js';
import { subscribeForWait, waitForRequest, type WaitOutcome } from './wait-for-request.js';
import { waitForStart } from './wait-for-start.js';

/** How far to follow, as the commands' flags say. */
export interface FollowFlags {
  wait?: boolean;
  queued?: boolean;
  json?: boolean;
}

/** What the progress lines on stderr say about this request. */
export interface FollowLabels {
  /** `started on w1` is appended: `build unix #4` (default), `build unix #4 (rebuild of build 12)`. */
  started?: (build: BuildJson) => string;
  /** With --wait, the line once queued: `request 7 queued for unix`. */
  queued: (request: RequestJson) => string;
}

/** Queues with `queue` and reports as the flags ask. */
export async function queueAndFollow(
  conn: MasterConnection,
  flags: FollowFlags,
  context: CliContext,
  queue: () => Promise<RequestJson>,
  labels: FollowLabels,
): Promise<void> {
  const subscription = flags.wait ? await subscribeForWait(conn) : undefined;
  let request: RequestJson;
  try {
    request = await queue();
  } catch (error) {
    subscription?.close();
    throw error;
  }
  if (flags.queued) {
    await (flags.json ? printJson(request) : writeStdout(`${request.id}\n`));
    return;
  }
  if (!flags.wait) {
    const started = await waitForStart(conn, request.id, note);
    if (started.kind === 'cancelled') {
      note(`request ${request.id} was cancelled before it started`);
      if (flags.json) await printJson(started.request);
      context.exitCode = EXIT.failure;
      return;
    }
    const { build } = started;
    note(`${labels.started?.(build) ?? `build ${build.builder} #${build.number}`} started on ${build.worker}`);
    await (flags.json ? printJson(build) : writeStdout(`${build.id}\n`));
    return;
  }
  note(labels.queued(request));
  // The events do not say why a request waits; a light poll does, until the wait ends.
  const watching = new AbortController();
  void watchWaiting(conn, request.id, note, watching.signal);
  let outcome: WaitOutcome;
  try {
    outcome = await waitForRequest(conn, request.id, { subscription, progress: note });
  } finally {
    watching.abort();
  }
  if (outcome.kind === 'cancelled') {
    if (flags.json) await printJson(outcome.request);
    context.exitCode = EXIT.failure;
    return;
  }
  await (flags.json ? printJson(outcome.build) : writeStdout(formatBuildSummary(outcome.build, Date.now())));
  context.exitCode = exitStatusForResult(outcome.build.result);
}
