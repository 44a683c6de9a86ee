import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DATABASES, type DatabaseKind, testDatabaseUrl } from '../../../test/helpers/databases.js';
import { migrationProvider } from './migrations.js';
import { openStore } from './open-store.js';

const T0 = 1_700_000_000_000;

/** A bare Kysely on a test database URL, as an older master would have opened it. */
function rawKysely(kind: DatabaseKind, url: string): Kysely<any> {
  if (kind === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    mkdirSync(dirname(file), { recursive: true });
    return new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  }
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
}

describe.each(DATABASES)('migrations on %s', (kind) => {
  it('upgrades a database made by 001_core, keeping its queue and running builds', async () => {
    const database = await testDatabaseUrl(kind);
    try {
      const old = rawKysely(kind, database.url);
      const { '001_core': core } = await migrationProvider(kind).getMigrations();
      const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => ({ '001_core': core! }) } }).migrateToLatest();
      expect(error).toBeUndefined();
      const request = { builder: 'linux', priority: 0, properties: '{}', reason: 'r', submitted_by: null, submitted_at: T0, result: null, completed_at: null };
      const queued = await old.insertInto('build_requests').values({ ...request, state: 'queued', build_id: null }).returning('id').executeTakeFirstOrThrow();
      const claimed = await old.insertInto('build_requests').values({ ...request, state: 'claimed', build_id: null }).returning('id').executeTakeFirstOrThrow();
      const build = await old
        .insertInto('builds')
        .values({ request_id: claimed.id, builder: 'linux', number: 1, worker: 'w', state: 'running', properties: '{}', started_at: T0 })
        .returning('id')
        .executeTakeFirstOrThrow();
      await old.updateTable('build_requests').set({ build_id: build.id }).where('id', '=', claimed.id).execute();
      await old.destroy();

      const store = await openStore(database.url);
      try {
        const news = { scheduler: null, collapseKey: null, patchId: null, changeIds: [] };
        expect(await store.getRequest(queued.id)).toMatchObject({ state: 'queued', ...news });
        expect((await store.listQueuedRequests()).map((r) => r.id)).toEqual([Number(queued.id)]);
        const done = await store.finishBuild(Number(build.id), { result: 'SUCCESS', summary: null, finishedAt: T0 + 1, requeue: false });
        expect(done.request).toMatchObject({ id: Number(claimed.id), state: 'complete', result: 'SUCCESS', ...news });
        expect(await store.getBlamelist(Number(build.id))).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('upgrades a database made by 004_fleet: its workers\' flags have no maintenance windows', async () => {
    const database = await testDatabaseUrl(kind);
    try {
      const old = rawKysely(kind, database.url);
      const migrations = await migrationProvider(kind).getMigrations();
      const upTo004 = Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= '004_fleet'));
      const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => upTo004 } }).migrateToLatest();
      expect(error).toBeUndefined();
      await old.insertInto('worker_flags').values({ worker: 'w1', paused: 1, paused_by: 'ada', paused_at: T0, contact: 'Ada', notes: null }).execute();
      await old.destroy();

      const store = await openStore(database.url);
      try {
        expect(await store.getWorkerFlags()).toEqual([
          { worker: 'w1', paused: true, pausedBy: 'ada', pausedAt: T0, contact: 'Ada', notes: null, maintenance: [] },
        ]);
        expect(await store.listRegisteredWorkers()).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('migrates 005_join, 004_fleet, 003_views and 002_changes down and up again', async () => {
    const database = await testDatabaseUrl(kind);
    const db = rawKysely(kind, database.url);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(kind) });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const down = await migrator.migrateTo('001_core');
      expect(down.error).toBeUndefined();
      expect(down.results?.map((r) => [r.migrationName, r.status])).toEqual([
        ['009_latent', 'Success'],
        ['008_debug', 'Success'],
        ['007_tests', 'Success'],
        ['006_files', 'Success'],
        ['005_join', 'Success'],
        ['004_fleet', 'Success'],
        ['003_views', 'Success'],
        ['002_changes', 'Success'],
      ]);
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      expect(up.results?.map((r) => [r.migrationName, r.status])).toEqual([
        ['002_changes', 'Success'],
        ['003_views', 'Success'],
        ['004_fleet', 'Success'],
        ['005_join', 'Success'],
        ['006_files', 'Success'],
        ['007_tests', 'Success'],
        ['008_debug', 'Success'],
        ['009_latent', 'Success'],
      ]);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
