/**
 * Build requests: the queue. A request is `queued` until a build claims it,
 * `claimed` while that build runs, and `complete` once a build finished it or
 * it was cancelled; a RETRY puts it back to `queued`. The changes a request
 * is for live in `request_changes`; every read loads them for all its rows
 * in one more query (`withChangeIds`).
 */
import { sql } from 'kysely';
import type { BuildRequest, Millis } from '../domain.js';
import { chunked, MAX_PARAMETERS, sortedIds } from './id-lists.js';
import type { NewRequest } from './store.js';
import { type RequestRow, toRequest } from './rows.js';
import type { Db } from './tables.js';

/** Inserts a queued request and links its changes, in one transaction; returns it as stored. */
export async function enqueueRequest(db: Db, request: NewRequest): Promise<BuildRequest> {
  const changeIds = sortedIds(request.changeIds ?? []);
  return db.transaction().execute(async (trx) => {
    const row = await trx
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
        scheduler: request.scheduler ?? null,
        collapse_key: request.collapseKey ?? null,
        patch_id: request.patchId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // Two parameters per row.
    for (const chunk of chunked(changeIds, MAX_PARAMETERS / 2)) {
      await trx
        .insertInto('request_changes')
        .values(chunk.map((changeId) => ({ request_id: row.id, change_id: changeId })))
        .execute();
    }
    return toRequest(row, changeIds);
  });
}

/**
 * Request rows as domain objects, with the change ids of all of them loaded
 * in one query (per `MAX_PARAMETERS` rows), never one per request.
 */
export async function withChangeIds(db: Db, rows: RequestRow[]): Promise<BuildRequest[]> {
  const byRequest = new Map<number, number[]>(rows.map((row) => [row.id, []]));
  for (const chunk of chunked([...byRequest.keys()])) {
    const links = await db
      .selectFrom('request_changes')
      .select(['request_id', 'change_id'])
      .where('request_id', 'in', chunk)
      .orderBy('request_id')
      .orderBy('change_id')
      .execute();
    for (const link of links) byRequest.get(link.request_id)?.push(link.change_id);
  }
  return rows.map((row) => toRequest(row, byRequest.get(row.id) ?? []));
}

/** One request row as a domain object, with its change ids. */
export async function withChangeIdsOne(db: Db, row: RequestRow): Promise<BuildRequest> {
  const [request] = await withChangeIds(db, [row]);
  return request!;
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
  return withChangeIds(db, rows);
}

/** One request by id. */
export async function getRequest(db: Db, id: number): Promise<BuildRequest | undefined> {
  const row = await db.selectFrom('build_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row && withChangeIdsOne(db, row);
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
  return row && withChangeIdsOne(db, row);
}
