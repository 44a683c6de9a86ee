/**
 * Scheduler state: the little a scheduler must remember across master
 * restarts (a nightly scheduler's last run), as one JSON document per
 * scheduler name.
 */
import type { Db } from './tables.js';

/** A scheduler's saved state, or undefined when it never saved any. */
export async function getSchedulerState(db: Db, name: string): Promise<Record<string, unknown> | undefined> {
  const row = await db.selectFrom('scheduler_state').select('state').where('name', '=', name).executeTakeFirst();
  return row && (JSON.parse(row.state) as Record<string, unknown>);
}

/**
 * Replaces a scheduler's saved state. `updated_at` is for people reading the
 * database only (nothing reads it back), so it is the wall clock rather than
 * the injected `Clock`, which the store does not have.
 */
export async function setSchedulerState(db: Db, name: string, state: Record<string, unknown>): Promise<void> {
  const json = JSON.stringify(state);
  const at = Date.now();
  await db
    .insertInto('scheduler_state')
    .values({ name, state: json, updated_at: at })
    .onConflict((oc) => oc.column('name').doUpdateSet({ state: json, updated_at: at }))
    .execute();
}
