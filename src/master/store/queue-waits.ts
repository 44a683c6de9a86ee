/**
 * How long requests waited in the queue, measured on the builds that served
 * them: a build's start minus its own request's submission. Each build
 * counts once, by the request it was started for (requests collapsed into it
 * are not counted again), and a RETRY's next build counts its request's
 * whole wait since submission.
 */
import type { Millis } from '../domain.js';
import { toQueueWait } from './rows.js';
import type { QueueWait } from './store.js';
import type { Db } from './tables.js';

/** The waits of the builds started at or after `since`, oldest first (then by id), in one query. */
export async function listQueueWaits(db: Db, since: Millis): Promise<QueueWait[]> {
  const rows = await db
    .selectFrom('builds')
    .innerJoin('build_requests', 'build_requests.id', 'builds.request_id')
    .select((eb) => [
      'builds.builder',
      'builds.worker',
      'builds.started_at',
      eb('builds.started_at', '-', eb.ref('build_requests.submitted_at')).as('wait_ms'),
    ])
    .where('builds.started_at', '>=', since)
    .orderBy('builds.started_at')
    .orderBy('builds.id')
    .execute();
  return rows.map(toQueueWait);
}
