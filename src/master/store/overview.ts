/**
 * What the home page asks of the store: every builder's failing streak and
 * the queue's length and oldest request, each in a fixed number of queries
 * whatever the number of builders or builds.
 *
 * A streak follows the rule notifications use (`notify/decide.ts`): only
 * counted builds matter, that is finished builds whose result says something
 * about the code (not RETRY, CANCELLED, SKIPPED) and that are not try builds
 * (whose request carries a patch). A builder is failing when counted builds
 * follow its last passing one; they are the streak, and all of them failed.
 */
import { sql } from 'kysely';
import { type BuildRequest, RESULTS } from '../domain.js';
import { outcomeOf } from '../notify/decide.js';
import { chunked } from './id-lists.js';
import { withChangeIdsOne } from './requests.js';
import { toBuild, toChange } from './rows.js';
import type { FailingStreak, QueueSummary } from './store.js';
import type { Db } from './tables.js';

/** Results that count as passing and as failing, from the one rule notifications use. */
const PASSING = RESULTS.filter((result) => outcomeOf(result) === 'passing');
const FAILING = RESULTS.filter((result) => outcomeOf(result) === 'failing');

/** Builder names per statement: each is one bound parameter. */
const BUILDERS_PER_QUERY = 1_000;

/**
 * Finished builds of the builder the outer query's column `builderRef`
 * names, not try builds: a correlated subquery that walks backwards through
 * `builds_by_builder_state`, each build's request one primary-key seek away.
 */
function finishedNonTry(db: Db, builderRef: string) {
  return db
    .selectFrom('builds as b')
    .innerJoin('build_requests as r', 'r.id', 'b.request_id')
    .where('b.builder', '=', sql.ref<string>(builderRef))
    .where('b.state', '=', 'finished')
    .where('r.patch_id', 'is', null);
}

/**
 * The failing streaks of the given builders whose latest counted build
 * failed, longest-failing first. Three queries in all: the streak of every
 * builder (its last passing build, then how many counted builds follow it
 * and the first of them: seeks in the builder's index, so the cost grows
 * with the streaks, not the history), the builds named, and the blamelists
 * of the first failing builds.
 */
export async function failingStreaks(db: Db, builders: readonly string[]): Promise<FailingStreak[]> {
  const stats: { name: string; failing_builds: number; first_id: number; last_id: number }[] = [];
  for (const names of chunked([...new Set(builders)], BUILDERS_PER_QUERY)) {
    const rows = await db
      // Parenthesised here: Kysely wraps query builders in a CTE, not raw SQL, and PostgreSQL needs them.
      .with('names(name)', () => sql<{ name: string }>`(values ${sql.join(names.map((name) => sql`(${name})`))})`)
      // Materialised: the last passing id is looked up once per builder, not once per use below.
      .with(
        (cte) => cte('passes').materialized(),
        (qc) =>
          qc.selectFrom('names').select([
            'names.name',
            finishedNonTry(db, 'names.name')
              .select('b.id')
              .where('b.result', 'in', PASSING)
              .orderBy('b.id', 'desc')
              .limit(1)
              .as('pass_id'),
          ]),
      )
      .selectFrom('passes')
      .select((eb) => {
        const streak = () =>
          finishedNonTry(db, 'passes.name')
            .where('b.result', 'in', FAILING)
            .where('b.id', '>', eb.fn.coalesce('passes.pass_id', sql.lit(0)));
        return [
          'passes.name',
          streak()
            .select((e) => e.fn.countAll<number>().as('n'))
            .as('failing_builds'),
          streak()
            .select((e) => e.fn.min<number>('b.id').as('id'))
            .as('first_id'),
          finishedNonTry(db, 'passes.name')
            .select('b.id')
            .orderBy('b.id', 'desc')
            .limit(1)
            .as('last_id'),
        ];
      })
      .execute();
    for (const row of rows) {
      // PostgreSQL's count is a bigint, parsed as a number by the pool; coerce anyway for SQLite's driver types.
      if (Number(row.failing_builds) > 0 && row.first_id != null && row.last_id != null) {
        stats.push({ name: row.name as string, failing_builds: Number(row.failing_builds), first_id: row.first_id, last_id: row.last_id });
      }
    }
  }
  if (stats.length === 0) return [];

  const ids = [...new Set(stats.flatMap((s) => [s.first_id, s.last_id]))];
  const builds = new Map<number, ReturnType<typeof toBuild>>();
  for (const chunk of chunked(ids)) {
    for (const row of await db.selectFrom('builds').selectAll().where('id', 'in', chunk).execute()) builds.set(row.id, toBuild(row));
  }
  const blamelists = new Map<number, ReturnType<typeof toChange>[]>(stats.map((s) => [s.first_id, []]));
  for (const chunk of chunked([...blamelists.keys()])) {
    const rows = await db
      .selectFrom('build_changes')
      .innerJoin('changes', 'changes.id', 'build_changes.change_id')
      .selectAll('changes')
      .select('build_changes.build_id')
      .where('build_changes.build_id', 'in', chunk)
      .orderBy('build_changes.build_id')
      .orderBy('changes.id')
      .execute();
    for (const { build_id, ...change } of rows) blamelists.get(build_id)!.push(toChange(change));
  }

  return stats
    .map((s) => ({
      builder: s.name,
      firstFailing: builds.get(s.first_id)!,
      blamelist: blamelists.get(s.first_id)!,
      last: builds.get(s.last_id)!,
      failingBuilds: s.failing_builds,
    }))
    .sort((a, b) => a.firstFailing.startedAt - b.firstFailing.startedAt || a.builder.localeCompare(b.builder));
}

/** How many requests wait in the queue and the one waiting longest (by submission time, then id). */
export async function queueSummary(db: Db): Promise<QueueSummary> {
  // Literals, not parameters, so both planners use the partial index on queued requests.
  const { length } = await db
    .selectFrom('build_requests')
    .select((eb) => eb.fn.countAll<number>().as('length'))
    .where('state', '=', sql.lit('queued'))
    .executeTakeFirstOrThrow();
  const row = await db
    .selectFrom('build_requests')
    .selectAll()
    .where('state', '=', sql.lit('queued'))
    .orderBy('submitted_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  const oldest: BuildRequest | undefined = row && (await withChangeIdsOne(db, row));
  return { length: Number(length), oldest };
}
