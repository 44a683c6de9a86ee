/**
 * A big farm's history written straight into a fresh SQLite store: builders'
 * builds with their requests and blamelists over a stream of changes, in one
 * transaction of multi-row inserts through Kysely (the store's own tables
 * and migrations), so W5 has 100,000 builds in seconds instead of hours of
 * real builds. Only what the views read is filled: no steps, no logs, no
 * `request_changes`.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type Insertable } from 'kysely';
import type { Result } from '../../src/master/domain.js';
import { openStore } from '../../src/master/store/open-store.js';
import type { Tables } from '../../src/master/store/tables.js';

/** The shape of the history. */
export interface FarmHistory {
  builders: string[];
  changes: number;
  /** Builds per builder; each covers the next `changes / buildsPerBuilder` changes (its blamelist). */
  buildsPerBuilder: number;
  /** Every n-th change is on the `release` branch; the others on `main`. */
  releaseEvery: number;
  /** Builders (the first n) whose latest builds fail, so the overview has streaks to find. */
  failingBuilders: number;
  /** Epoch ms of the first change and build. */
  start: number;
}

/** What was written. */
export interface LoadedCounts {
  changes: number;
  builds: number;
  blamelistRows: number;
}

/** Rows per multi-row insert: SQLite allows 32,766 parameters per statement. */
function rowsPerInsert(columns: number): number {
  return Math.floor(2_000 / columns);
}

async function insertAll<T extends keyof Tables>(db: Kysely<Tables>, table: T, rows: Insertable<Tables[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  const size = rowsPerInsert(Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += size) {
    await db.insertInto(table).values(rows.slice(i, i + size) as never).execute();
  }
}

/** A result that is mostly SUCCESS, decided by the build's position so every run loads the same history. */
function resultOf(builderIndex: number, round: number, rounds: number, failing: boolean): Result {
  if (failing && round >= rounds - 1 - (builderIndex % 5)) return 'FAILURE';
  const h = (builderIndex * 7919 + round * 104_729) % 100;
  return h < 6 ? 'FAILURE' : h < 8 ? 'WARNINGS' : h < 9 ? 'RETRY' : 'SUCCESS';
}

/**
 * Writes the history into a migrated, empty store's database, in one
 * transaction: changes oldest first, then round after round one build per
 * builder, each blaming the next slice of changes. Any dialect: W5 uses
 * SQLite; the same history on PostgreSQL shows its query plans.
 */
export async function writeFarmHistory(db: Kysely<Tables>, history: FarmHistory): Promise<LoadedCounts> {
  return db.transaction().execute(async (trx) => {
    const changes: Insertable<Tables['changes']>[] = [];
    for (let i = 0; i < history.changes; i++) {
      const id = i + 1;
      changes.push({
        id,
        source: 'bench',
        repository: 'https://example.org/bench.git',
        branch: id % history.releaseEvery === 0 ? 'release' : 'main',
        revision: id.toString(16).padStart(40, '0'),
        author: `Dev ${id % 40} <dev${id % 40}@example.org>`,
        committer: `Dev ${id % 40} <dev${id % 40}@example.org>`,
        message: `change ${id}: touch module ${id % 97}\n\nA longer body, as commits have.`,
        files: JSON.stringify([`src/m${id % 97}.c`, `include/m${id % 97}.h`]),
        when_at: history.start + id * 60_000,
        via: 'poll',
        received_at: history.start + id * 60_000 + 5_000,
      });
    }
    await insertAll(trx, 'changes', changes);

    const perBuild = Math.max(1, Math.floor(history.changes / history.buildsPerBuilder));
    const requests: Insertable<Tables['build_requests']>[] = [];
    const builds: Insertable<Tables['builds']>[] = [];
    const blamelists: Insertable<Tables['build_changes']>[] = [];
    let id = 0;
    for (let round = 0; round < history.buildsPerBuilder; round++) {
      for (const [b, builder] of history.builders.entries()) {
        id++;
        const started = history.start + id * 1_000;
        const result = resultOf(b, round, history.buildsPerBuilder, b < history.failingBuilders);
        requests.push({
          id,
          builder,
          priority: 0,
          properties: '{}',
          reason: 'new changes',
          submitted_by: null,
          submitted_at: started - 500,
          // A RETRY would requeue its request; here each is simply complete, so the queue stays empty.
          state: 'complete',
          build_id: id,
          result,
          completed_at: started + 60_000,
          scheduler: 'on-change',
          collapse_key: null,
          patch_id: null,
        });
        builds.push({
          id,
          request_id: id,
          builder,
          number: round + 1,
          worker: `w${b % 50}`,
          state: 'finished',
          result,
          properties: JSON.stringify({ branch: 'main', buildnumber: String(round + 1) }),
          started_at: started,
          finished_at: started + 60_000,
          summary: null,
        });
        for (let c = round * perBuild; c < Math.min((round + 1) * perBuild, history.changes); c++) {
          blamelists.push({ build_id: id, change_id: c + 1 });
        }
      }
    }
    await insertAll(trx, 'build_requests', requests);
    await insertAll(trx, 'builds', builds);
    await insertAll(trx, 'build_changes', blamelists);
    return { changes: changes.length, builds: builds.length, blamelistRows: blamelists.length };
  });
}

/** Creates a SQLite store at `path` (migrated by `openStore`, then closed) holding the history. */
export async function loadFarmHistory(path: string, history: FarmHistory): Promise<LoadedCounts> {
  await (await openStore(`sqlite:${path}`)).close();
  const database = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database }) });
  try {
    return await writeFarmHistory(db, history);
  } finally {
    await db.destroy();
  }
}
