/**
 * Worker presence: when each configured worker was first and last seen, what
 * it last reported about itself, whether it is connected now, and every
 * connection it ever had (`worker_sessions`, for uptime). The row is created
 * on first connection, so configured workers that never connected have none.
 *
 * Each write transaction starts with the `workers` write, so on SQLite it
 * takes the write lock at once (see builds.ts) and on PostgreSQL the worker's
 * row lock orders a connect and a disconnect of one worker racing from two
 * masters.
 */
import type { Millis } from '../domain.js';
import type { WorkerRow, WorkerSession } from './store.js';
import { toWorker, toWorkerSession } from './rows.js';
import type { Db } from './tables.js';

/**
 * Upserts a worker as connected at `at` with the info it reported
 * (`first_seen` is kept from the first time) and opens a session. A session
 * still open is closed at `at`: the worker reconnected before its
 * disconnection was seen, so the old connection ended then at the latest.
 */
export async function recordWorkerConnected(db: Db, name: string, info: Record<string, unknown>, at: Millis): Promise<void> {
  const json = JSON.stringify(info);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workers')
      .values({ name, info: json, first_seen: at, last_seen: at, connected_at: at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ info: json, last_seen: at, connected_at: at }))
      .execute();
    await closeOpenSessions(trx, at, name);
    await trx.insertInto('worker_sessions').values({ worker: name, connected_at: at, disconnected_at: null }).execute();
  });
}

/** Marks a worker disconnected at `at` and closes its session; its info stays as last reported. */
export async function recordWorkerDisconnected(db: Db, name: string, at: Millis): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('workers').set({ connected_at: null, last_seen: at }).where('name', '=', name).execute();
    await closeOpenSessions(trx, at, name);
  });
}

/**
 * Marks every connected worker disconnected and closes every open session.
 * Their connections ended when the previous master stopped, at some unknown
 * time before `at`; `at` is the closest bound we have, so it becomes their
 * last_seen and their sessions' end.
 */
export async function resetWorkerConnections(db: Db, at: Millis): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('workers').set({ connected_at: null, last_seen: at }).where('connected_at', 'is not', null).execute();
    await closeOpenSessions(trx, at);
  });
}

/** Every worker that ever connected, by name. */
export async function listWorkers(db: Db): Promise<WorkerRow[]> {
  const rows = await db.selectFrom('workers').selectAll().orderBy('name').execute();
  return rows.map(toWorker);
}

/**
 * A worker's sessions that overlap [since, now): those still open and those
 * that ended after `since`, oldest first (by start, then by insertion).
 */
export async function listWorkerSessions(db: Db, worker: string, since: Millis): Promise<WorkerSession[]> {
  const rows = await db
    .selectFrom('worker_sessions')
    .selectAll()
    .where('worker', '=', worker)
    .where((eb) => eb.or([eb('disconnected_at', 'is', null), eb('disconnected_at', '>', since)]))
    .orderBy('connected_at')
    .orderBy('id')
    .execute();
  return rows.map(toWorkerSession);
}

/** Every worker's sessions that overlap [since, now), in one query: the uptime of the whole fleet. Ordered as listWorkerSessions, by worker. */
export async function listAllWorkerSessions(db: Db, since: Millis): Promise<WorkerSession[]> {
  const rows = await db
    .selectFrom('worker_sessions')
    .selectAll()
    .where((eb) => eb.or([eb('disconnected_at', 'is', null), eb('disconnected_at', '>', since)]))
    .orderBy('worker')
    .orderBy('connected_at')
    .orderBy('id')
    .execute();
  return rows.map(toWorkerSession);
}

/** Closes the open sessions of one worker (or of all) at `at`; `is null` so the partial index serves it. */
async function closeOpenSessions(db: Db, at: Millis, worker?: string): Promise<void> {
  let query = db.updateTable('worker_sessions').set({ disconnected_at: at }).where('disconnected_at', 'is', null);
  if (worker !== undefined) query = query.where('worker', '=', worker);
  await query.execute();
}
