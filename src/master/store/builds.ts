/**
 * Builds: claiming a request (and the requests collapsed into it),
 * numbering per builder, the blamelist, finishing (or requeueing), and the
 * build lists the API pages through.
 *
 * Every write transaction here starts with a write. On PostgreSQL that takes
 * the row lock first, so a competing claim waits and then finds the request
 * no longer queued; on SQLite it takes the write lock at once (under the
 * busy timeout) instead of failing a read-to-write upgrade when another
 * process wrote in between.
 */
import { sql } from 'kysely';
import type { Build, BuildRequest, Millis, Properties, Result, Step } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { chunked, sortedIds } from './id-lists.js';
import { withChangeIdsOne } from './requests.js';
import type { BuildQuery, NewBuild } from './store.js';
import { toBuild, toStep } from './rows.js';
import type { Db } from './tables.js';

/**
 * Numbering reads max(number) and inserts max+1, so two claims for one
 * builder racing on PostgreSQL would read the same max. Within a process the
 * caller serialises them per builder (`KeyedSerializer`, see KyselyStore);
 * across processes (two masters on one database) the unique (builder,
 * number) constraint rejects the later insert and the whole claim is retried
 * on a fresh snapshot, after a short random pause so that a master starting
 * builds back to back cannot keep winning the same race.
 */
const START_ATTEMPTS = 10;

/** Claims a queued request and creates its numbered build and pending steps; undefined when no longer queued. */
export async function startBuild(
  db: Db,
  input: NewBuild,
): Promise<{ build: Build; steps: Step[]; request: BuildRequest } | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => claimAndCreate(trx, input));
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !isUniqueViolation(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
    }
  }
}

async function claimAndCreate(
  trx: Db,
  input: NewBuild,
): Promise<{ build: Build; steps: Step[]; request: BuildRequest } | undefined> {
  // Rows affected is the claim: zero means another master (or a cancel) got there first.
  const claimed = await trx
    .updateTable('build_requests')
    .set({ state: 'claimed' })
    .where('id', '=', input.requestId)
    .where('state', '=', 'queued')
    .returning('id')
    .executeTakeFirst();
  if (!claimed) return undefined;

  const { last } = await trx
    .selectFrom('builds')
    .select((eb) => eb.fn.max('number').as('last'))
    .where('builder', '=', input.builder)
    .executeTakeFirstOrThrow();
  const number = (last ?? 0) + 1;

  const buildRow = await trx
    .insertInto('builds')
    .values({
      request_id: input.requestId,
      builder: input.builder,
      number,
      worker: input.worker,
      state: 'running',
      result: null,
      properties: JSON.stringify({ ...input.properties, buildnumber: String(number) }),
      started_at: input.startedAt,
      finished_at: null,
      summary: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  const stepRows =
    input.steps.length === 0
      ? []
      : await trx
          .insertInto('steps')
          .values(input.steps.map((name, idx) => ({ build_id: buildRow.id, idx, name, state: 'pending' as const })))
          .returningAll()
          .execute();
  // RETURNING order is not guaranteed on either database.
  stepRows.sort((a, b) => a.idx - b.idx);

  const requestRow = await trx
    .updateTable('build_requests')
    .set({ build_id: buildRow.id })
    .where('id', '=', input.requestId)
    .returningAll()
    .executeTakeFirstOrThrow();

  const claimedIds = [input.requestId, ...(await claimCollapsed(trx, input, buildRow.id))];
  await fillBlamelist(trx, buildRow.id, claimedIds);

  return { build: toBuild(buildRow), steps: stepRows.map(toStep), request: await withChangeIdsOne(trx, requestRow) };
}

/**
 * Claims, for the build, those of the collapsed requests that are still
 * queued and belong to its builder; the rest (claimed by another build,
 * cancelled, another builder's) are left alone. Returns the ids claimed.
 */
async function claimCollapsed(trx: Db, input: NewBuild, buildId: number): Promise<number[]> {
  const others = sortedIds(input.collapse ?? []).filter((id) => id !== input.requestId);
  const claimed: number[] = [];
  for (const chunk of chunked(others)) {
    const rows = await trx
      .updateTable('build_requests')
      .set({ state: 'claimed', build_id: buildId })
      .where('id', 'in', chunk)
      .where('state', '=', 'queued')
      .where('builder', '=', input.builder)
      .returning('id')
      .execute();
    claimed.push(...rows.map((row) => row.id));
  }
  return claimed;
}

/** The blamelist: the union of the changes of every request the build claimed. */
async function fillBlamelist(trx: Db, buildId: number, requestIds: number[]): Promise<void> {
  for (const chunk of chunked(requestIds)) {
    await trx
      .insertInto('build_changes')
      .columns(['build_id', 'change_id'])
      .expression((eb) =>
        eb
          .selectFrom('request_changes')
          // A cast, not a bare parameter: PostgreSQL would type a parameter in a select list as text.
          .select([sql<number>`cast(${buildId} as bigint)`.as('build_id'), 'change_id'])
          .distinct()
          .where('request_id', 'in', chunk),
      )
      // Two chunks of requests may share a change.
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** A unique-constraint violation, as either driver reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' /* PostgreSQL */ || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Finishes a running build and completes or requeues every request it
 * claimed (its own and those collapsed into it); returns its own request.
 */
export async function finishBuild(
  db: Db,
  buildId: number,
  end: { result: Result; summary: string | null; finishedAt: Millis; requeue: boolean },
): Promise<{ build: Build; request: BuildRequest }> {
  return db.transaction().execute(async (trx) => {
    const buildRow = await trx
      .updateTable('builds')
      .set({ state: 'finished', result: end.result, summary: end.summary, finished_at: end.finishedAt })
      .where('id', '=', buildId)
      .where('state', '=', 'running')
      .returningAll()
      .executeTakeFirst();
    if (!buildRow) {
      const existing = await getBuild(trx, buildId);
      throw existing
        ? new ShepherdError('SHEPHERD_E_CONFLICT', `Build ${buildId} is already finished.`, { details: { buildId } })
        : new ShepherdError('SHEPHERD_E_NOT_FOUND', `No build ${buildId}.`, { details: { buildId } });
    }
    const change = end.requeue
      ? { state: 'queued' as const, build_id: null, result: null, completed_at: null }
      : { state: 'complete' as const, result: end.result, completed_at: end.finishedAt };
    const rows = await trx
      .updateTable('build_requests')
      .set(change)
      .where('build_id', '=', buildId)
      // A literal, so both planners match the partial index on claimed requests' build_id.
      .where('state', '=', sql.lit('claimed'))
      .returningAll()
      .execute();
    // The build's own request is in `rows` unless something else already moved it; then it is
    // finished by id, as it always was.
    const requestRow =
      rows.find((row) => row.id === buildRow.request_id) ??
      (await trx
        .updateTable('build_requests')
        .set(change)
        .where('id', '=', buildRow.request_id)
        .returningAll()
        .executeTakeFirstOrThrow());
    return { build: toBuild(buildRow), request: await withChangeIdsOne(trx, requestRow) };
  });
}

/** Merges properties into a build's (a step's `got_revision`); later values win. */
export async function updateBuildProperties(db: Db, buildId: number, properties: Properties): Promise<Build> {
  return db.transaction().execute(async (trx) => {
    // A write first (see the top of this file): concurrent merges into one build wait for each other.
    const current = await trx
      .updateTable('builds')
      .set((eb) => ({ properties: eb.ref('properties') }))
      .where('id', '=', buildId)
      .returning('properties')
      .executeTakeFirst();
    if (!current) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `No build ${buildId}.`, { details: { buildId } });
    const merged = { ...(JSON.parse(current.properties) as Properties), ...properties };
    const row = await trx
      .updateTable('builds')
      .set({ properties: JSON.stringify(merged) })
      .where('id', '=', buildId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBuild(row);
  });
}

/** One build by id. */
export async function getBuild(db: Db, id: number): Promise<Build | undefined> {
  const row = await db.selectFrom('builds').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toBuild(row);
}

/** One build by builder and number (the unique constraint's index). */
export async function getBuildByNumber(db: Db, builder: string, number: number): Promise<Build | undefined> {
  const row = await db
    .selectFrom('builds')
    .selectAll()
    .where('builder', '=', builder)
    .where('number', '=', number)
    .executeTakeFirst();
  return row && toBuild(row);
}

/** Builds newest first, filtered, keyset-paged on id (`beforeId`). */
export async function listBuilds(db: Db, query: BuildQuery): Promise<Build[]> {
  let select = db.selectFrom('builds').selectAll();
  if (query.builder !== undefined) select = select.where('builder', '=', query.builder);
  if (query.result !== undefined) select = select.where('result', '=', query.result);
  if (query.state !== undefined) select = select.where('state', '=', query.state);
  if (query.worker !== undefined) select = select.where('worker', '=', query.worker);
  if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
  const rows = await select.orderBy('id', 'desc').limit(query.limit).execute();
  return rows.map(toBuild);
}

/**
 * The latest finished build of each builder, in one query. The recursive
 * part walks the distinct builder names through a builder index
 * one seek at a time (a "loose index scan"), and each builder's latest
 * finished build is one seek in the (builder, state, id) index, so the
 * cost grows with the number of builders, not the number of builds.
 */
export async function lastBuildPerBuilder(db: Db): Promise<Build[]> {
  const rows = await db
    .withRecursive('builders(name)', (qc) =>
      qc
        .selectFrom('builds')
        .select((eb) => eb.fn.min<string | null>('builds.builder').as('name'))
        .unionAll((qb) =>
          qb
            .selectFrom('builders')
            .select((eb) =>
              eb
                .selectFrom('builds')
                .select((eb2) => eb2.fn.min('builds.builder').as('next'))
                .whereRef('builds.builder', '>', 'builders.name')
                .as('name'),
            )
            .where('builders.name', 'is not', null),
        ),
    )
    .selectFrom('builders')
    .innerJoin('builds', (join) =>
      join.on((eb) =>
        eb(
          'builds.id',
          '=',
          eb
            .selectFrom('builds as latest')
            .select((eb2) => eb2.fn.max('latest.id').as('id'))
            .whereRef('latest.builder', '=', 'builders.name')
            .where('latest.state', '=', 'finished'),
        ),
      ),
    )
    .selectAll('builds')
    // The walk ends with a null name; looking that up would scan every build for nothing.
    .where('builders.name', 'is not', null)
    .orderBy('builds.builder')
    .execute();
  return rows.map(toBuild);
}

/** Finished builds per worker (workers with none are absent), in one GROUP BY. */
export async function countBuildsByWorker(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('builds')
    .select((eb) => ['worker', eb.fn.countAll<number | string | bigint>().as('count')])
    .where('state', '=', 'finished')
    .groupBy('worker')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.worker, Number(r.count)]));
}
