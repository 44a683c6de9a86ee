/**
 * The grid and console views: which builds of which builders covered each
 * of a page of changes (a build covers every change in its blamelist), in
 * one query for the whole page, never one per change or per builder.
 */
import type { Result } from '../domain.js';
import { chunked, sortedIds } from './id-lists.js';
import type { ChangeBuild } from './store.js';
import type { Db } from './tables.js';

/** Builder names per statement (one bound parameter each); farms have far fewer. */
const BUILDERS_PER_QUERY = 1_000;

/**
 * The builds of `builders` whose blamelist holds one of `changeIds`: newest
 * change first, then newest build first. Each change is one seek in the
 * (change_id, build_id) index, each build one primary-key seek.
 */
export async function gridBuilds(db: Db, changeIds: readonly number[], builders: readonly string[]): Promise<ChangeBuild[]> {
  const changes = sortedIds(changeIds);
  const names = [...new Set(builders)];
  if (changes.length === 0 || names.length === 0) return [];
  const found: ChangeBuild[] = [];
  for (const changeChunk of chunked(changes)) {
    for (const builderChunk of chunked(names, BUILDERS_PER_QUERY)) {
      const rows = await db
        .selectFrom('build_changes')
        .innerJoin('builds', 'builds.id', 'build_changes.build_id')
        .select(['build_changes.change_id', 'builds.id', 'builds.builder', 'builds.number', 'builds.state', 'builds.result'])
        .where('build_changes.change_id', 'in', changeChunk)
        .where('builds.builder', 'in', builderChunk)
        .execute();
      for (const row of rows) {
        found.push({
          changeId: row.change_id,
          buildId: row.id,
          builder: row.builder,
          number: row.number,
          state: row.state,
          result: row.result as Result | null,
        });
      }
    }
  }
  // Sorted here rather than in SQL: the rows of several chunks merge, and a page is small.
  return found.sort((a, b) => b.changeId - a.changeId || b.buildId - a.buildId);
}
