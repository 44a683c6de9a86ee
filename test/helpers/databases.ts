/**
 * Fresh real databases for tests: a SQLite file in a new temporary directory,
 * or a new PostgreSQL database on the server at `SHEPHERD_TEST_PG`. No mocks:
 * store tests loop over `DATABASES` and run the same assertions on both.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/master/store/open-store.js';
import type { Store } from '../../src/master/store/store.js';

/** The databases every store test runs on. */
export const DATABASES = ['sqlite', 'postgres'] as const;

/** One of `DATABASES`. */
export type DatabaseKind = (typeof DATABASES)[number];

/** The PostgreSQL server tests create their databases on (connecting to its maintenance database). */
export const TEST_PG_ADMIN_URL = process.env.SHEPHERD_TEST_PG ?? 'postgres://shepherd:shepherd@127.0.0.1:5432/postgres';

/** A fresh, empty database: its URL for `openStore` (or a master's config) and a way to delete it. */
export interface TestDatabase {
  url: string;
  /** Deletes the database (the PostgreSQL database, even with connections left open, or the SQLite directory). */
  drop(): Promise<void>;
}

/** Creates a fresh, empty database of the given kind; nothing is migrated yet. */
export async function testDatabaseUrl(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-test-'));
    // A nested directory, so every test also checks that openStore creates it.
    return { url: `sqlite:${join(dir, 'data', 'shepherd.sqlite')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `shepherd_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a master process killed by a test may have left connections behind.
    drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Opens a store on a fresh database; its `close()` also deletes the database. */
export async function openTestStore(kind: DatabaseKind): Promise<Store> {
  const database = await testDatabaseUrl(kind);
  let store: Store;
  try {
    store = await openStore(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  const close = store.close.bind(store);
  let closing: Promise<void> | undefined;
  store.close = () => (closing ??= close().finally(database.drop));
  return store;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
