/**
 * Files steps sent back (artifacts, test results): one row per file with
 * where its bytes are under the data directory, or why it was skipped. The
 * bytes themselves live on disk (`src/master/files/`), not in the database.
 */
import { sql } from 'kysely';
import { chunked, sortedIds } from './id-lists.js';
import { toStepFile } from './rows.js';
import type { NewStepFile, StepFile, StepFileKind, StepFileUsage } from './store.js';
import type { Db } from './tables.js';

/** Records a file; undefined when the step already has one of that kind and name. */
export async function addStepFile(db: Db, file: NewStepFile): Promise<StepFile | undefined> {
  const row = await db
    .insertInto('step_files')
    .values({
      build_id: file.buildId,
      step_id: file.stepId,
      kind: file.kind,
      name: file.name,
      size: file.size,
      path: file.path,
      created_at: file.createdAt,
      skipped: file.skipped,
    })
    .onConflict((oc) => oc.columns(['step_id', 'kind', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row && toStepFile(row);
}

/** Files by build, step and/or kind, oldest first. */
export async function listStepFiles(db: Db, filter: { buildId?: number; stepId?: number; kind?: StepFileKind }): Promise<StepFile[]> {
  let query = db.selectFrom('step_files').selectAll();
  if (filter.buildId !== undefined) query = query.where('build_id', '=', filter.buildId);
  if (filter.stepId !== undefined) query = query.where('step_id', '=', filter.stepId);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  const rows = await query.orderBy('id').execute();
  return rows.map(toStepFile);
}

/** One file by id. */
export async function getStepFile(db: Db, id: number): Promise<StepFile | undefined> {
  const row = await db.selectFrom('step_files').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toStepFile(row);
}

/** Stored bytes and newest file per build (skipped files take no room). */
export async function stepFileUsage(db: Db): Promise<StepFileUsage[]> {
  const rows = await db
    .selectFrom('step_files')
    // Cast: PostgreSQL sums a bigint to numeric, which would come back as a string.
    .select(['build_id', sql<number>`cast(sum(size) as bigint)`.as('bytes'), sql<number>`max(created_at)`.as('newest_at')])
    .where('path', 'is not', null)
    .groupBy('build_id')
    .orderBy('build_id')
    .execute();
  return rows.map((row) => ({ buildId: row.build_id, bytes: Number(row.bytes), newestAt: Number(row.newest_at) }));
}

/** Deletes the file rows of these builds. */
export async function deleteStepFiles(db: Db, buildIds: readonly number[]): Promise<number> {
  let deleted = 0;
  for (const ids of chunked(sortedIds(buildIds))) {
    const result = await db.deleteFrom('step_files').where('build_id', 'in', ids).executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
