/**
 * Schema migrations, kept in code so the bundled master needs no migration
 * files on disk. Kysely's Migrator records what ran in `kysely_migration` and
 * takes a lock (an advisory lock on PostgreSQL) so two masters starting at
 * once do not both migrate.
 *
 * The only dialect differences are the id column and the blob type; every
 * other column type means the same on both databases (`bigint` has INTEGER
 * affinity on SQLite).
 */
import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  sql,
} from 'kysely';
import type { Store } from './store.js';

/** Which database a Kysely instance talks to. */
export type Dialect = Store['dialect'];

/** Adds the dialect's auto-incrementing integer primary key `id` to a table being created. */
function withId<TB extends string>(dialect: Dialect, table: CreateTableBuilder<TB>): CreateTableBuilder<TB, 'id'> {
  return dialect === 'sqlite'
    ? // AUTOINCREMENT: ids are never reused, so keyset paging and stale references stay sound.
      table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

function core(dialect: Dialect): Migration {
  const blob = dialect === 'sqlite' ? 'blob' : 'bytea';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('build_requests'))
        .addColumn('builder', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text')
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        // No foreign key: builds.request_id points the other way and SQLite cannot add a constraint afterwards.
        .addColumn('build_id', 'bigint')
        .addColumn('result', 'text')
        .addColumn('completed_at', 'bigint')
        .execute();
      // Partial: the queue stays small while completed requests pile up for ever.
      await db.schema
        .createIndex('build_requests_queue')
        .on('build_requests')
        .columns(['priority desc', 'submitted_at', 'id'])
        .where(sql.ref('state'), '=', sql.lit('queued'))
        .execute();

      await withId(dialect, db.schema.createTable('builds'))
        .addColumn('request_id', 'bigint', (c) => c.notNull().references('build_requests.id'))
        .addColumn('builder', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('summary', 'text')
        // Also serves max(number) per builder and the list of distinct builders.
        .addUniqueConstraint('builds_builder_number', ['builder', 'number'])
        .execute();
      await db.schema.createIndex('builds_by_builder').on('builds').columns(['builder', 'id desc']).execute();
      // A builder's latest finished build (builder lists) and its finished or running builds (pages).
      await db.schema.createIndex('builds_by_builder_state').on('builds').columns(['builder', 'state', 'id desc']).execute();
      await db.schema.createIndex('builds_by_state').on('builds').columns(['state', 'id desc']).execute();
      await db.schema.createIndex('builds_by_worker').on('builds').columns(['worker', 'id desc']).execute();

      await withId(dialect, db.schema.createTable('steps'))
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('command', 'text')
        .addColumn('workdir', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('exit_code', 'integer')
        .addColumn('signal', 'text')
        .addColumn('summary', 'text')
        .addColumn('log_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('log_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('log_truncated', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('steps_build_idx', ['build_id', 'idx'])
        .execute();

      await withId(dialect, db.schema.createTable('log_chunks'))
        .addColumn('step_id', 'bigint', (c) => c.notNull().references('steps.id').onDelete('cascade'))
        .addColumn('offset', 'bigint', (c) => c.notNull())
        .addColumn('length', 'integer', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        // Unique: a second chunk at the same offset would mean two writers raced on one log.
        .addUniqueConstraint('log_chunks_step_offset', ['step_id', 'offset'])
        .execute();

      await db.schema
        .createTable('workers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('info', 'text')
        .addColumn('first_seen', 'bigint')
        .addColumn('last_seen', 'bigint')
        .addColumn('connected_at', 'bigint')
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['workers', 'log_chunks', 'steps', 'builds', 'build_requests']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/** The migrations, by name; names sort in the order they must run. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return { '001_core': core(dialect) };
    },
  };
}

/** Brings the schema up to date; never throws (Kysely reports failure in the result). */
export function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<MigrationResultSet> {
  return new Migrator({ db, provider: migrationProvider(dialect) }).migrateToLatest();
}
