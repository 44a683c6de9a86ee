/**
 * Schema migrations, kept in code so the bundled master needs no migration
 * files on disk. Kysely's Migrator records what ran in `kysely_migration` and
 * takes a lock (an advisory lock on PostgreSQL) so two masters starting at
 * once do not both migrate.
 *
 * The only dialect differences are the id column and the blob type; every
 * other column type means the same on both databases (`bigint` has INTEGER
 * affinity on SQLite). A released migration is never edited: changes to the
 * schema are a new migration after the last.
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

/** Changes and their branch heads, blamelists, collapsing, webhook dedupe, try patches, scheduler state. */
function changes(dialect: Dialect): Migration {
  const blob = dialect === 'sqlite' ? 'blob' : 'bytea';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('changes'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('committer', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull())
        // `when` is a keyword on both databases.
        .addColumn('when_at', 'bigint', (c) => c.notNull())
        .addColumn('via', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        // A poll and a webhook (or two masters) reporting one commit store it once.
        .addUniqueConstraint('changes_source_branch_revision', ['source', 'branch', 'revision'])
        .execute();
      // Newest first overall is the primary key read backwards; these serve the filtered lists
      // and a branch's latest change.
      await db.schema.createIndex('changes_by_source').on('changes').columns(['source', 'id desc']).execute();
      await db.schema.createIndex('changes_by_branch').on('changes').columns(['source', 'branch', 'id desc']).execute();

      await db.schema
        .createTable('change_heads')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('change_heads_pk', ['source', 'branch'])
        .execute();

      await db.schema
        .createTable('request_changes')
        .addColumn('request_id', 'bigint', (c) => c.notNull().references('build_requests.id').onDelete('cascade'))
        .addColumn('change_id', 'bigint', (c) => c.notNull().references('changes.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('request_changes_pk', ['request_id', 'change_id'])
        .execute();
      await db.schema.createIndex('request_changes_by_change').on('request_changes').column('change_id').execute();

      // The blamelist: filled when a build starts, from the changes of every request it claimed.
      await db.schema
        .createTable('build_changes')
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('change_id', 'bigint', (c) => c.notNull().references('changes.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('build_changes_pk', ['build_id', 'change_id'])
        .execute();
      await db.schema.createIndex('build_changes_by_change').on('build_changes').column('change_id').execute();

      await withId(dialect, db.schema.createTable('patches'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('base_revision', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // One column per statement: SQLite's ALTER TABLE adds one at a time. Nullable, so existing
      // rows need no value; no foreign key on patch_id, which SQLite cannot add to an existing table.
      await db.schema.alterTable('build_requests').addColumn('scheduler', 'text').execute();
      await db.schema.alterTable('build_requests').addColumn('collapse_key', 'text').execute();
      await db.schema.alterTable('build_requests').addColumn('patch_id', 'bigint').execute();
      // finishBuild completes every request a build claimed (collapsing); partial, like the queue
      // index, so completed requests do not grow it. Queries must use the literal 'claimed'.
      await db.schema
        .createIndex('build_requests_claimed_by_build')
        .on('build_requests')
        .column('build_id')
        .where(sql.ref('state'), '=', sql.lit('claimed'))
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['provider', 'delivery_id'])
        .execute();

      await db.schema
        .createTable('scheduler_state')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['scheduler_state', 'webhook_deliveries', 'build_changes', 'request_changes', 'change_heads']) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.dropIndex('build_requests_claimed_by_build').execute();
      for (const column of ['patch_id', 'collapse_key', 'scheduler']) {
        await db.schema.alterTable('build_requests').dropColumn(column).execute();
      }
      await db.schema.dropTable('patches').execute();
      await db.schema.dropTable('changes').execute();
    },
  };
}

/**
 * What the web UI's views read: the grid looks up, for a page of changes,
 * the builds whose blamelist holds each. With (change_id, build_id) the
 * blamelist rows are read from the index alone (SQLite's covering index,
 * PostgreSQL's index-only scan) instead of one table row per (change, build);
 * it replaces the index on change_id alone, its prefix.
 */
function views(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('build_changes_by_change_build').on('build_changes').columns(['change_id', 'build_id']).execute();
      await db.schema.dropIndex('build_changes_by_change').execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('build_changes_by_change').on('build_changes').column('change_id').execute();
      await db.schema.dropIndex('build_changes_by_change_build').execute();
    },
  };
}

/**
 * The fleet: presence history (one row per connection, so uptime over 7 and
 * 30 days can be computed), what a worker's admin set (paused, contact,
 * notes), and the ledger of missing-worker alerts sent, whose unique key is
 * what keeps a restarted master, or a second one, from mailing a fact twice.
 */
function fleet(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('worker_sessions'))
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('connected_at', 'bigint', (c) => c.notNull())
        .addColumn('disconnected_at', 'bigint')
        .execute();
      // A worker's sessions over a window, oldest first.
      await db.schema.createIndex('worker_sessions_by_worker').on('worker_sessions').columns(['worker', 'connected_at']).execute();
      // Every connect and disconnect closes the worker's open session, and start-up closes them all:
      // partial, so those stay cheap however long the history grows. Queries must use `is null`.
      await db.schema
        .createIndex('worker_sessions_open')
        .on('worker_sessions')
        .column('worker')
        .where(sql.ref('disconnected_at'), 'is', null)
        .execute();

      await db.schema
        .createTable('worker_flags')
        .addColumn('worker', 'text', (c) => c.primaryKey())
        .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('paused_by', 'text')
        .addColumn('paused_at', 'bigint')
        .addColumn('contact', 'text')
        .addColumn('notes', 'text')
        .execute();

      await withId(dialect, db.schema.createTable('fleet_alerts'))
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('episode', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        // One mail per fact: two masters (or a restarted one) deciding the same alert record it once.
        // Also serves the lists by worker and by (worker, episode).
        .addUniqueConstraint('fleet_alerts_fact', ['worker', 'episode', 'kind', 'sequence'])
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['fleet_alerts', 'worker_flags', 'worker_sessions']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Joining the farm and its health over time: volunteers' applications, the
 * workers approving one registers (beside the config file's), admins'
 * maintenance windows, and the health history. Each name is unique where a
 * race could otherwise let two rows claim it: a registered worker by its
 * primary key, a pending application by a partial unique index (a declined
 * name may be proposed again), a health sample by its bucket.
 */
function joining(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Nullable JSON array: rows from 004 (and flags that never had windows) read as none.
      await db.schema.alterTable('worker_flags').addColumn('maintenance', 'text').execute();

      await withId(dialect, db.schema.createTable('applications'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('dimensions', 'text', (c) => c.notNull())
        .addColumn('max_builds', 'integer', (c) => c.notNull())
        .addColumn('contact', 'text', (c) => c.notNull())
        .addColumn('notes', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('worker', 'text')
        .execute();
      // The operators' lists: pending ones (or any state), newest first.
      await db.schema.createIndex('applications_by_state').on('applications').columns(['state', 'id desc']).execute();
      // Two volunteers (or one submitting twice) racing for a name: one pending application wins.
      // createApplication's insert names no conflict target, so its DO NOTHING covers this partial
      // index on both databases (naming it would mean repeating the predicate).
      await db.schema
        .createIndex('applications_pending_name')
        .on('applications')
        .column('name')
        .unique()
        .where(sql.ref('state'), '=', sql.lit('pending'))
        .execute();

      await db.schema
        .createTable('registered_workers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        // No foreign key, like build_requests.build_id: the application is kept for ever anyway.
        .addColumn('application_id', 'bigint', (c) => c.notNull())
        .addColumn('dimensions', 'text', (c) => c.notNull())
        .addColumn('max_builds', 'integer', (c) => c.notNull())
        .addColumn('admins', 'text', (c) => c.notNull())
        .addColumn('notes', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('secret_collected_at', 'bigint')
        .addColumn('retired_by', 'text')
        .addColumn('retired_at', 'bigint')
        .execute();
      // The volunteer collects the secret by application; one application registers one worker.
      await db.schema.createIndex('registered_workers_by_application').on('registered_workers').column('application_id').unique().execute();

      await db.schema
        .createTable('health_samples')
        .addColumn('bucket', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('score', 'integer', (c) => c.notNull())
        .addColumn('platforms', 'text', (c) => c.notNull())
        .execute();

      // Queue waits read the builds started since a time; without it that scans every build ever run.
      await db.schema.createIndex('builds_by_started_at').on('builds').columns(['started_at', 'id']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('builds_by_started_at').execute();
      for (const table of ['health_samples', 'registered_workers', 'applications']) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.alterTable('worker_flags').dropColumn('maintenance').execute();
    },
  };
}

function files(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('step_files'))
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('step_id', 'bigint', (c) => c.notNull().references('steps.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('path', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('skipped', 'text')
        .execute();
      // One file of a name per step and kind: a second upload of it is refused, not stored twice.
      await db.schema.createIndex('step_files_by_step').on('step_files').columns(['step_id', 'kind', 'name']).unique().execute();
      // A build's artifact list, and retention deleting a build's files together.
      await db.schema.createIndex('step_files_by_build').on('step_files').columns(['build_id', 'id']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('step_files').execute();
    },
  };
}

/**
 * Per-test results (007): one row per test per step, written in batches of
 * thousands, read by build (failures first), by test name (its history,
 * newest first) and by revision (flakiness: did it pass elsewhere at the
 * same revision?). Builder, worker, platform and revision are copied onto
 * each row so none of those reads joins builds. Quarantine entries added
 * through the API live beside the config's.
 */
function tests(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('test_results'))
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id'))
        .addColumn('step_id', 'bigint', (c) => c.notNull().references('steps.id'))
        .addColumn('builder', 'text', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('platform', 'text')
        .addColumn('revision', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('suite', 'text')
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint')
        .addColumn('message', 'text')
        .addColumn('flaky', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rerun', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      // A test's history, newest first (by id: rows are inserted as steps finish).
      await db.schema.createIndex('test_results_by_name').on('test_results').columns(['name', 'id']).execute();
      // A build's tests (and a step's, for marking re-run ones flaky).
      await db.schema.createIndex('test_results_by_build').on('test_results').columns(['build_id', 'step_id']).execute();
      // Outcomes at one revision: flakiness and "which platforms fail".
      await db.schema.createIndex('test_results_by_revision').on('test_results').columns(['revision', 'name']).execute();

      await withId(dialect, db.schema.createTable('quarantine'))
        .addColumn('test', 'text', (c) => c.notNull())
        .addColumn('builders', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('added_by', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['quarantine', 'test_results']) await db.schema.dropTable(table).execute();
    },
  };
}

/**
 * Debug sessions: one audit row per session asked for (refused ones too),
 * with where its asciicast recording is. `session` is the random id the
 * worker admin's approval token signs; `id` orders them.
 */
function debugSessions(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('debug_sessions'))
        .addColumn('session', 'text', (c) => c.notNull().unique())
        // No foreign key, like build_requests.build_id: the audit outlives nothing but is never cascaded away.
        .addColumn('build_id', 'bigint', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        // Not `user`: a reserved word on PostgreSQL.
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('command', 'text')
        .addColumn('mode', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('exit_code', 'integer')
        .addColumn('refused_reason', 'text')
        .addColumn('end_reason', 'text')
        .addColumn('recording', 'text')
        .execute();
      await db.schema.createIndex('debug_sessions_by_build').on('debug_sessions').columns(['build_id', 'id desc']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('debug_sessions').execute();
    },
  };
}

/**
 * On-demand (latent) instances (009): one row per instance a master asked a
 * provider to start, kept after it stopped (a month's spend is computed from
 * them, and a pool's backoff survives a restart). A name is reused by later
 * instances, so rows are keyed by id and at most one row per name is alive.
 */
function latent(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(dialect, db.schema.createTable('latent_instances'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('master_id', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('connected_at', 'bigint')
        .addColumn('idle_since', 'bigint')
        .addColumn('stopped_at', 'bigint')
        .addColumn('builds', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reason', 'text')
        .addColumn('token_hash', 'text')
        .addColumn('token_expires_at', 'bigint')
        .addColumn('session_hash', 'text')
        // The pool's price when it started: a later config change does not re-price the past.
        .addColumn('cost_per_hour', 'double precision', (c) => c.notNull().defaultTo(0))
        .execute();
      // Two masters (or two racing starts) choosing one name: one alive instance wins. Like
      // applications_pending_name, createLatentInstance's insert names no conflict target, so its
      // DO NOTHING covers this partial index on both databases. Queries must use `is null`.
      await db.schema
        .createIndex('latent_instances_alive_name')
        .on('latent_instances')
        .column('name')
        .unique()
        .where(sql.ref('stopped_at'), 'is', null)
        .execute();
      // The listing, oldest start first; a month's spend reads the instances started since a time.
      await db.schema.createIndex('latent_instances_by_started_at').on('latent_instances').columns(['started_at', 'id']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('latent_instances').execute();
    },
  };
}

/** The migrations, by name; names sort in the order they must run. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '001_core': core(dialect),
        '002_changes': changes(dialect),
        '003_views': views(),
        '004_fleet': fleet(dialect),
        '005_join': joining(dialect),
        '008_debug': debugSessions(dialect),
        '006_files': files(dialect),
        '007_tests': tests(dialect),
        '009_latent': latent(dialect),
      };
    },
  };
}

/** Brings the schema up to date; never throws (Kysely reports failure in the result). */
export function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<MigrationResultSet> {
  return new Migrator({ db, provider: migrationProvider(dialect) }).migrateToLatest();
}
