/**
 * Changes: the commits change sources report, each stored once per (source,
 * branch, revision) however many times a poll or webhook reports it; the
 * branch heads a poller compares against; and the links from changes to the
 * builds that built them (the blamelists, filled by `builds.ts`).
 */
import type { Change, Millis, NewChange } from '../domain.js';
import { chunked, MAX_PARAMETERS, sortedIds } from './id-lists.js';
import type { ChangeBuild, ChangeQuery } from './store.js';
import { toChange } from './rows.js';
import type { Db } from './tables.js';

/** Columns per inserted change: a batch stays under the parameter cap. */
const CHANGE_COLUMNS = 11;

/**
 * Inserts the changes not stored yet and moves the source's heads, in one
 * transaction, so a crash never records a head without its changes. Returns
 * the changes inserted, in the order given (ascending id).
 */
export async function recordChanges(
  db: Db,
  source: string,
  changes: NewChange[],
  heads: Record<string, string | null>,
  at: Millis,
): Promise<Change[]> {
  return db.transaction().execute(async (trx) => {
    const added: Change[] = [];
    for (const chunk of chunked(changes, Math.floor(MAX_PARAMETERS / CHANGE_COLUMNS))) {
      const rows = await trx
        .insertInto('changes')
        .values(
          chunk.map((change) => ({
            source,
            repository: change.repository,
            branch: change.branch,
            revision: change.revision,
            author: change.author,
            committer: change.committer,
            message: change.message,
            files: JSON.stringify(change.files),
            when_at: change.when,
            via: change.via,
            received_at: at,
          })),
        )
        // Already stored (a redelivered webhook, a poll after a push): RETURNING leaves it out.
        .onConflict((oc) => oc.columns(['source', 'branch', 'revision']).doNothing())
        .returningAll()
        .execute();
      // Ids follow the VALUES order; RETURNING's order is not guaranteed.
      added.push(...rows.sort((a, b) => a.id - b.id).map(toChange));
    }

    const moved = Object.entries(heads).flatMap(([branch, revision]) =>
      revision === null ? [] : [{ source, branch, revision, updated_at: at }],
    );
    for (const chunk of chunked(moved, Math.floor(MAX_PARAMETERS / 4))) {
      await trx
        .insertInto('change_heads')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['source', 'branch']).doUpdateSet((eb) => ({
            revision: eb.ref('excluded.revision'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
    const gone = Object.entries(heads).flatMap(([branch, revision]) => (revision === null ? [branch] : []));
    for (const chunk of chunked(gone)) {
      await trx.deleteFrom('change_heads').where('source', '=', source).where('branch', 'in', chunk).execute();
    }
    return added;
  });
}

/** A source's branch heads as last recorded: branch → revision. */
export async function getHeads(db: Db, source: string): Promise<Record<string, string>> {
  const rows = await db.selectFrom('change_heads').select(['branch', 'revision']).where('source', '=', source).execute();
  return Object.fromEntries(rows.map((row) => [row.branch, row.revision]));
}

/** One change by id. */
export async function getChange(db: Db, id: number): Promise<Change | undefined> {
  const row = await db.selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toChange(row);
}

/** The changes with these ids (unknown ids are skipped), ascending id. */
export async function getChanges(db: Db, ids: number[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const chunk of chunked(sortedIds(ids))) {
    const rows = await db.selectFrom('changes').selectAll().where('id', 'in', chunk).orderBy('id').execute();
    changes.push(...rows.map(toChange));
  }
  return changes;
}

/** Changes newest first, filtered by source and branch, keyset-paged on id (`beforeId`). */
export async function listChanges(db: Db, query: ChangeQuery): Promise<Change[]> {
  let select = db.selectFrom('changes').selectAll();
  if (query.source !== undefined) select = select.where('source', '=', query.source);
  if (query.branch !== undefined) select = select.where('branch', '=', query.branch);
  if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
  const rows = await select.orderBy('id', 'desc').limit(query.limit).execute();
  return rows.map(toChange);
}

/** For each change, the builds whose blamelist holds it; by change id, then build id. */
export async function buildsOfChanges(db: Db, changeIds: number[]): Promise<ChangeBuild[]> {
  const found: ChangeBuild[] = [];
  for (const chunk of chunked(sortedIds(changeIds))) {
    const rows = await db
      .selectFrom('build_changes')
      .innerJoin('builds', 'builds.id', 'build_changes.build_id')
      .select([
        'build_changes.change_id',
        'builds.id',
        'builds.builder',
        'builds.number',
        'builds.state',
        'builds.result',
      ])
      .where('build_changes.change_id', 'in', chunk)
      .orderBy('build_changes.change_id')
      .orderBy('builds.id')
      .execute();
    for (const row of rows) {
      found.push({
        changeId: row.change_id,
        buildId: row.id,
        builder: row.builder,
        number: row.number,
        state: row.state,
        result: row.result as ChangeBuild['result'],
      });
    }
  }
  return found;
}

/** A build's blamelist, oldest change first. */
export async function getBlamelist(db: Db, buildId: number): Promise<Change[]> {
  const rows = await db
    .selectFrom('build_changes')
    .innerJoin('changes', 'changes.id', 'build_changes.change_id')
    .selectAll('changes')
    .where('build_changes.build_id', '=', buildId)
    .orderBy('changes.id')
    .execute();
  return rows.map(toChange);
}

/** The most recently recorded change on a source's branch (one seek in `changes_by_branch`). */
export async function latestChange(db: Db, source: string, branch: string): Promise<Change | undefined> {
  const row = await db
    .selectFrom('changes')
    .selectAll()
    .where('source', '=', source)
    .where('branch', '=', branch)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toChange(row);
}
