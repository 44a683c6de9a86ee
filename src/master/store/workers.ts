/**
 * Worker presence: when each configured worker was first and last seen, what
 * it last reported about itself, and whether it is connected now. The row is
 * created on first connection, so configured workers that never connected
 * have none.
 */
import type { Millis } from '../domain.js';
import type { WorkerRow } from './store.js';
import { toWorker } from './rows.js';
import type { Db } from './tables.js';

/** Upserts a worker as connected at `at` with the info it reported; `first_seen` is kept from the first time. */
export async function recordWorkerConnected(db: Db, name: string, info: Record<string, unknown>, at: Millis): Promise<void> {
  const json = JSON.stringify(info);
  await db
    .insertInto('workers')
    .values({ name, info: json, first_seen: at, last_seen: at, connected_at: at })
    .onConflict((oc) => oc.column('name').doUpdateSet({ info: json, last_seen: at, connected_at: at }))
    .execute();
}

/** Marks a worker disconnected at `at`; its info stays as last reported. */
export async function recordWorkerDisconnected(db: Db, name: string, at: Millis): Promise<void> {
  await db.updateTable('workers').set({ connected_at: null, last_seen: at }).where('name', '=', name).execute();
}

/**
 * Marks every connected worker disconnected. Their connections ended when the
 * previous master stopped, at some unknown time before `at`; `at` is the
 * closest bound we have, so it becomes their last_seen.
 */
export async function resetWorkerConnections(db: Db, at: Millis): Promise<void> {
  await db.updateTable('workers').set({ connected_at: null, last_seen: at }).where('connected_at', 'is not', null).execute();
}

/** Every worker that ever connected, by name. */
export async function listWorkers(db: Db): Promise<WorkerRow[]> {
  const rows = await db.selectFrom('workers').selectAll().orderBy('name').execute();
  return rows.map(toWorker);
}
