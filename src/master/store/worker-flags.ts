/**
 * What a worker's admin set with the worker's own secret, without the
 * master's operator: paused (no builds, no alerts), contact, notes and
 * maintenance windows (when being offline is expected). Kept
 * apart from `workers`, which records what the agent reports, so neither
 * side overwrites the other; a row exists once an admin set something.
 */
import type { Millis } from '../domain.js';
import type { MaintenanceWindow, WorkerFlags } from './store.js';
import { toWorkerFlags } from './rows.js';
import type { Db } from './tables.js';

/**
 * Pauses a worker (recording by whom and when) or resumes it (clearing
 * them, so `pausedBy`/`pausedAt` always describe the pause in force).
 */
export async function setWorkerPaused(db: Db, worker: string, paused: boolean, by: string, at: Millis): Promise<void> {
  const flags = paused ? { paused: 1 as const, paused_by: by, paused_at: at } : { paused: 0 as const, paused_by: null, paused_at: null };
  await db
    .insertInto('worker_flags')
    .values({ worker, ...flags })
    .onConflict((oc) => oc.column('worker').doUpdateSet(flags))
    .execute();
}

/** Replaces a worker's contact and notes (null clears one); the paused flag is left alone. */
export async function setWorkerContact(db: Db, worker: string, contact: string | null, notes: string | null): Promise<void> {
  await db
    .insertInto('worker_flags')
    .values({ worker, contact, notes })
    .onConflict((oc) => oc.column('worker').doUpdateSet({ contact, notes }))
    .execute();
}

/** Replaces a worker's maintenance windows (none clears them, stored as null like a row from before 005); other flags are left alone. */
export async function setWorkerMaintenance(db: Db, worker: string, windows: readonly MaintenanceWindow[]): Promise<void> {
  // Only the two known fields, so whatever else the caller's objects carry is not persisted.
  const maintenance = windows.length === 0 ? null : JSON.stringify(windows.map(({ cron, duration }) => ({ cron, duration })));
  await db
    .insertInto('worker_flags')
    .values({ worker, maintenance })
    .onConflict((oc) => oc.column('worker').doUpdateSet({ maintenance }))
    .execute();
}

/** The flags of every worker that has any, by worker name. */
export async function getWorkerFlags(db: Db): Promise<WorkerFlags[]> {
  const rows = await db.selectFrom('worker_flags').selectAll().orderBy('worker').execute();
  return rows.map(toWorkerFlags);
}
