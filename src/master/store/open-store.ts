/**
 * Opening the store: the one place that knows which database a URL names.
 * Everything past this file runs the same Kysely queries on both.
 *
 * - `sqlite:/abs/path.sqlite` (the directory is created), `sqlite::memory:`
 * - `postgres://user:password@host:port/db` (or `postgresql://`)
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { ShepherdError } from '../errors.js';
import { KyselyStore } from './kysely-store.js';
import { type Dialect, migrateToLatest } from './migrations.js';
import type { Store } from './store.js';
import type { Tables } from './tables.js';

/** How long a SQLite write waits for another process's lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Prepared SQLite statements kept for reuse; the store issues a few dozen distinct ones. */
const SQLITE_STATEMENT_CACHE = 256;

/**
 * Opens the database a URL names, brings its schema up to date and returns
 * the store. Throws `SHEPHERD_E_DATABASE` (with the driver's error as
 * `cause`) when the URL is not understood, the database cannot be reached or
 * a migration fails.
 */
export async function openStore(url: string): Promise<Store> {
  const shown = redact(url);
  let db: Kysely<Tables>;
  let dialect: Dialect;
  try {
    ({ db, dialect } = connect(url));
  } catch (error) {
    if (error instanceof ShepherdError) throw error;
    throw new ShepherdError('SHEPHERD_E_DATABASE', `Cannot open the database ${shown}: ${messageOf(error)}`, { cause: error });
  }

  try {
    // A cheap round-trip first, so "cannot reach" and "cannot migrate" read differently.
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {});
    const hint =
      dialect === 'postgres'
        ? ' Check that PostgreSQL is running and that master.database names a reachable server, database, user and password.'
        : ' Check that the file is a SQLite database and that the master may write to it.';
    throw new ShepherdError('SHEPHERD_E_DATABASE', `Cannot open the database ${shown}: ${messageOf(error)}.${hint}`, {
      cause: error,
    });
  }

  const { error } = await migrateToLatest(db, dialect);
  if (error !== undefined) {
    await db.destroy().catch(() => {});
    throw new ShepherdError(
      'SHEPHERD_E_DATABASE',
      `Cannot migrate the database ${shown}: ${messageOf(error)}. Fix the cause and restart the master.`,
      { cause: error },
    );
  }
  return new KyselyStore(db, dialect);
}

function connect(url: string): { db: Kysely<Tables>; dialect: Dialect } {
  if (url.startsWith('sqlite:')) {
    const database = openSqlite(url.slice('sqlite:'.length));
    return { db: new Kysely<Tables>({ dialect: new SqliteDialect({ database }) }), dialect: 'sqlite' };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool: openPostgresPool(url) }) }), dialect: 'postgres' };
  }
  throw new ShepherdError(
    'SHEPHERD_E_DATABASE',
    `Cannot open the database ${redact(url)}: expected "sqlite:PATH", "sqlite::memory:" or "postgres://USER@HOST:PORT/DB".`,
  );
}

function openSqlite(path: string): SqliteDatabase {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  try {
    // WAL lets readers (API, other processes) proceed during writes; NORMAL is durable across
    // process crashes and only risks the last transactions on power loss, at a fraction of FULL's fsyncs.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  return withStatementCache(database);
}

/**
 * Kysely prepares every query it runs; on SQLite preparing costs as much as
 * running a small statement, so statements are kept by SQL text. Reuse is
 * safe because Kysely gives the one SQLite connection to one query at a time.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        if (statements.size >= SQLITE_STATEMENT_CACHE) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/** PostgreSQL returns int8 as a string by default; our ids and epoch-millisecond times fit a double exactly. */
const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

function openPostgresPool(url: string): pg.Pool {
  // Per pool, not pg.types.setTypeParser: other pg users in the process keep the defaults.
  const pool = new pg.Pool({
    connectionString: url,
    types: int8AsNumber,
    // Without it a firewalled host hangs start-up for ever; also bounds the wait for a free client.
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (server restart) is reported here; without a listener
  // it would crash the master. The pool drops that client and the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** The URL with any password hidden, for messages and logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.protocol.startsWith('postgres') ? parsed.toString() : url;
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

function messageOf(error: unknown): string {
  // Connecting to "localhost" fails with an AggregateError (one per address) whose own message is empty.
  if (error instanceof AggregateError && error.message === '' && error.errors.length > 0) {
    return error.errors.map(messageOf).join('; ');
  }
  const message =
    error instanceof Error ? error.message || String((error as { code?: unknown }).code ?? error.name) : String(error);
  return message.replace(/\.$/, '');
}
