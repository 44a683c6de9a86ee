/**
 * Runs once before all test files: PostgreSQL must be reachable, because the
 * store tests run on it as well as SQLite and must fail loudly, never be
 * skipped, when it is down.
 */
import pg from 'pg';
import { TEST_PG_ADMIN_URL } from './databases.js';

/** Checks that the test PostgreSQL server answers; throws a message saying how to start it. */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    const shown = TEST_PG_ADMIN_URL.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
    const reason = error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error);
    throw new Error(
      `PostgreSQL is not reachable at ${shown}: start it with pg_ctlcluster 15 main start; see DEVELOPERS.md ` +
        `(the role shepherd must exist, or set SHEPHERD_TEST_PG). Cause: ${reason}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
}
