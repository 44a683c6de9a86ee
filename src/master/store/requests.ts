/**
 * Build requests: the queue. A request is `queued` until a build claims it,
 * `claimed` while that build runs, and `complete` once a build finished it or
 * it was cancelled; a RETRY puts it back to `queued`.
 */
import { sql } from 'kysely';
import type { BuildRequest, Millis } from '../domain.js';
import type { NewRequest } from './store.js';
import { toRequest } from './rows.js';
import type { Db } from './tables.js';

/** Inserts a queued request and returns it as stored. */
export async function enqueueRequest(db: Db, request: NewRequest): Promise<BuildRequest> {
  const row = await db
    .insertInto('build_requests')
    .values({
      builder: request.builder,
      priority: request.priority,
      properties: JSON.stringify(request.properties),
      reason: request.reason,
      submitted_by: request.submittedBy,
      submitted_at: request.submittedAt,
      state: 'queued',
      build_id: null,
      result: null,
      completed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRequest(row);
}

/** Queued requests in serving order: priority desc, then submittedAt, then id (the partial index's order). */
export async function listQueuedRequests(db: Db): Promise<BuildRequest[]> {
  const rows = await db
    .selectFrom('build_requests')
    .selectAll()
    // A literal, not a parameter, so both planners can match the partial index's condition.
    .where('state', '=', sql.lit('queued'))
    .orderBy('priority', 'desc')
    .orderBy('submitted_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
  return rows.map(toRequest);
}

/** One request by id. */
export async function getRequest(db: Db, id: number): Promise<BuildRequest | undefined> {
  const row = await db.selectFrom('build_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRequest(row);
}

/** Completes a request as CANCELLED if, and only if, it is still queued. */
export async function cancelQueuedRequest(db: Db, id: number, at: Millis): Promise<BuildRequest | undefined> {
  const row = await db
    .updateTable('build_requests')
    .set({ state: 'complete', result: 'CANCELLED', completed_at: at })
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
  return row && toRequest(row);
}
