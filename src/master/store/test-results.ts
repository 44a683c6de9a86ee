/**
 * Per-test results and the API's quarantine entries. A step of a big suite
 * stores thousands of rows at once: they go in multi-row INSERTs of
 * `INSERT_BATCH` rows inside one transaction, well under SQLite's 32,766 and
 * PostgreSQL's 65,535 bound parameters per statement.
 */
import { sql, type Selectable } from 'kysely';
import { TEST_OUTCOMES, type TestOutcome } from '../tests/types.js';
import type { BuildTests, NewQuarantineEntry, NewTestResult, StoredQuarantineEntry, StoredTestResult, TestRun } from './store.js';
import type { Db, QuarantineTable, TestResultsTable } from './tables.js';

/** Rows per INSERT statement (16 columns each). */
export const INSERT_BATCH = 500;
/** Names per IN list, for the same reason. */
const NAMES_BATCH = 1000;

/** Stores test results in one transaction; their ids, in order. */
export async function addTestResults(db: Db, results: readonly NewTestResult[]): Promise<number[]> {
  if (results.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const ids: number[] = [];
    for (let i = 0; i < results.length; i += INSERT_BATCH) {
      const rows = await trx
        .insertInto('test_results')
        .values(results.slice(i, i + INSERT_BATCH).map(toRow))
        .returning('id')
        .execute();
      for (const row of rows) ids.push(Number(row.id));
    }
    return ids;
  });
}

/** Failures first: failed, error, skipped, passed. */
const ORDER = sql<number>`case result ${sql.join(
  TEST_OUTCOMES.map((outcome, i) => sql`when ${sql.lit(outcome)} then ${sql.lit(i)}`),
  sql` `,
)} else ${sql.lit(TEST_OUTCOMES.length)} end`;

/** A build's tests, failures first, with counts by outcome (three queries). */
export async function listBuildTests(db: Db, buildId: number, page: { offset: number; limit: number; failuresOnly?: boolean }): Promise<BuildTests> {
  const [counted, flagged, rows] = await Promise.all([
    db
      .selectFrom('test_results')
      .select(['result', (eb) => eb.fn.countAll<number>().as('n')])
      .where('build_id', '=', buildId)
      .where('rerun', '=', 0)
      .groupBy('result')
      .execute(),
    db
      .selectFrom('test_results')
      .select([
        (eb) => eb.fn.sum<number>('flaky').as('flaky'),
        (eb) => eb.fn.sum<number>('quarantined').as('quarantined'),
      ])
      .where('build_id', '=', buildId)
      .where('rerun', '=', 0)
      .executeTakeFirst(),
    (() => {
      let query = db.selectFrom('test_results').selectAll().where('build_id', '=', buildId);
      if (page.failuresOnly) query = query.where('result', 'in', ['failed', 'error']);
      return query.orderBy(ORDER).orderBy('name').orderBy('rerun').orderBy('id').limit(page.limit).offset(page.offset).execute();
    })(),
  ]);
  const counts: Record<TestOutcome, number> = { failed: 0, error: 0, skipped: 0, passed: 0 };
  for (const row of counted) counts[row.result as TestOutcome] = Number(row.n);
  return {
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    flaky: Number(flagged?.flaky ?? 0),
    quarantined: Number(flagged?.quarantined ?? 0),
    tests: rows.map(toStoredTestResult),
  };
}

/** A test's runs, newest first. */
export async function testHistory(db: Db, name: string, filter: { builder?: string; beforeId?: number; limit: number }): Promise<StoredTestResult[]> {
  let query = db.selectFrom('test_results').selectAll().where('name', '=', name);
  if (filter.builder !== undefined) query = query.where('builder', '=', filter.builder);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toStoredTestResult);
}

const RUN_COLUMNS = [
  'id', 'build_id', 'step_id', 'builder', 'worker', 'platform', 'revision', 'name', 'suite', 'result',
  'duration_ms', 'flaky', 'rerun', 'quarantined', 'at',
] as const;

/** Outcomes at one revision, oldest first: of `names` (in batches), or every failure there. */
export async function testOutcomesAtRevision(
  db: Db,
  revision: string,
  filter: { names?: readonly string[]; failuresOnly?: boolean },
): Promise<TestRun[]> {
  const base = () => {
    let query = db.selectFrom('test_results').select(RUN_COLUMNS).where('revision', '=', revision);
    if (filter.failuresOnly) query = query.where('result', 'in', ['failed', 'error']);
    return query;
  };
  const rows: Selectable<Omit<TestResultsTable, 'message'>>[] = [];
  if (filter.names === undefined) {
    rows.push(...(await base().execute()));
  } else {
    for (let i = 0; i < filter.names.length; i += NAMES_BATCH) {
      rows.push(...(await base().where('name', 'in', filter.names.slice(i, i + NAMES_BATCH)).execute()));
    }
  }
  return rows.sort((a, b) => Number(a.id) - Number(b.id)).map((row) => {
    const { message: _none, ...run } = toStoredTestResult({ ...row, message: null });
    return run;
  });
}

/** Marks results flaky. */
export async function markTestsFlaky(db: Db, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += NAMES_BATCH) {
    await db.updateTable('test_results').set({ flaky: 1 }).where('id', 'in', ids.slice(i, i + NAMES_BATCH)).execute();
  }
}

/** The API's quarantine entries, oldest first. */
export async function listQuarantine(db: Db): Promise<StoredQuarantineEntry[]> {
  const rows = await db.selectFrom('quarantine').selectAll().orderBy('id').execute();
  return rows.map(toQuarantineEntry);
}

/** Adds a quarantine entry. */
export async function addQuarantine(db: Db, entry: NewQuarantineEntry): Promise<StoredQuarantineEntry> {
  const row = await db
    .insertInto('quarantine')
    .values({
      test: entry.test,
      builders: entry.builders === null ? null : JSON.stringify(entry.builders),
      reason: entry.reason,
      added_by: entry.addedBy,
      added_at: entry.addedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toQuarantineEntry(row);
}

/** Removes a quarantine entry; false when it did not exist. */
export async function removeQuarantine(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('quarantine').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

function toRow(result: NewTestResult) {
  return {
    build_id: result.buildId,
    step_id: result.stepId,
    builder: result.builder,
    worker: result.worker,
    platform: result.platform,
    revision: result.revision,
    name: result.name,
    suite: result.suite,
    result: result.result,
    duration_ms: result.durationMs,
    message: result.message,
    flaky: result.flaky ? (1 as const) : (0 as const),
    rerun: result.rerun ? (1 as const) : (0 as const),
    quarantined: result.quarantined ? (1 as const) : (0 as const),
    at: result.at,
  };
}

function toStoredTestResult(row: Selectable<TestResultsTable>): StoredTestResult {
  return {
    id: Number(row.id),
    buildId: Number(row.build_id),
    stepId: Number(row.step_id),
    builder: row.builder,
    worker: row.worker,
    platform: row.platform,
    revision: row.revision,
    name: row.name,
    suite: row.suite,
    result: row.result as TestOutcome,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    message: row.message,
    flaky: Number(row.flaky) === 1,
    rerun: Number(row.rerun) === 1,
    quarantined: Number(row.quarantined) === 1,
    at: Number(row.at),
  };
}

function toQuarantineEntry(row: Selectable<QuarantineTable>): StoredQuarantineEntry {
  return {
    id: Number(row.id),
    test: row.test,
    builders: row.builders === null ? null : (JSON.parse(row.builders) as string[]),
    reason: row.reason,
    addedBy: row.added_by,
    addedAt: Number(row.added_at),
  };
}
