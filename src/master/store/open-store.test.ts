import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DATABASES, TEST_PG_ADMIN_URL, testDatabaseUrl } from '../../../test/helpers/databases.js';
import { ShepherdError } from '../errors.js';
import { openStore } from './open-store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('openStore on %s', (kind) => {
  it('migrates an empty database, re-opens it without migrating again, and keeps the data', async () => {
    const database = await testDatabaseUrl(kind);
    try {
      const first = await openStore(database.url);
      expect(first.dialect).toBe(kind);
      const req = await first.enqueueRequest({ builder: 'linux', priority: 1, properties: { a: 'b' }, reason: 'r', submittedBy: null, submittedAt: T0 });
      const started = await first.startBuild({ requestId: req.id, builder: 'linux', worker: 'w', properties: {}, steps: ['s'], startedAt: T0 });
      await first.appendLog(started!.steps[0]!.id, Buffer.from('persisted log'), 1);
      await first.recordWorkerConnected('w', { os: 'linux' }, T0);
      await first.close();
      await first.close(); // harmless twice

      const second = await openStore(database.url);
      const third = await openStore(database.url); // two at once, as two masters would
      try {
        expect(await second.getRequest(req.id)).toEqual(started!.request);
        expect(await second.getBuild(started!.build.id)).toEqual(started!.build);
        const parts: Buffer[] = [];
        for await (const part of second.readLog(started!.steps[0]!.id)) parts.push(part);
        expect(Buffer.concat(parts).toString()).toBe('persisted log');
        expect(await third.listWorkers()).toEqual([{ name: 'w', info: { os: 'linux' }, firstSeen: T0, lastSeen: T0, connectedAt: T0 }]);
        // Ids keep counting after a re-open.
        const next = await second.enqueueRequest({ builder: 'linux', priority: 1, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 });
        expect(next.id).toBeGreaterThan(req.id);
      } finally {
        await second.close();
        await third.close();
      }
    } finally {
      await database.drop();
    }
  });
});

describe('openStore', () => {
  it('opens an in-memory SQLite database', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect(store.dialect).toBe('sqlite');
      expect(await store.listQueuedRequests()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('rejects a URL it does not understand', async () => {
    const error = await openStore('mysql://root@localhost/shepherd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShepherdError);
    expect(error).toMatchObject({ code: 'SHEPHERD_E_DATABASE', status: 500 });
    expect((error as Error).message).toMatch(/expected "sqlite:PATH"/);
  });

  it('reports a PostgreSQL server it cannot reach, without the password', async () => {
    const error = await openStore('postgres://shepherd:sekret@127.0.0.1:1/shepherd').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SHEPHERD_E_DATABASE' });
    expect((error as Error).message).toMatch(/Cannot open the database postgres:\/\/shepherd:\*\*\*@127\.0\.0\.1:1\/shepherd: .*ECONNREFUSED/);
    expect((error as Error).message).not.toContain('sekret');
    expect((error as Error).cause).toBeDefined();
  });

  it('reports a PostgreSQL database that does not exist', async () => {
    const url = new URL(TEST_PG_ADMIN_URL);
    url.pathname = '/shepherd_test_does_not_exist';
    const error = await openStore(url.toString()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SHEPHERD_E_DATABASE' });
    expect((error as Error).message).toMatch(/does not exist/);
  });

  it('reports a file that is not a SQLite database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-test-'));
    try {
      const file = join(dir, 'not-a-database.sqlite');
      await writeFile(file, 'this is plain text, long enough to fill a SQLite header and then some more bytes '.repeat(4));
      const error = await openStore(`sqlite:${file}`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SHEPHERD_E_DATABASE' });
      expect((error as Error).message).toContain(file);
      expect((error as Error).cause).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('waits for another SQLite connection to release its write lock instead of failing', async () => {
    const database = await testDatabaseUrl('sqlite');
    const store = await openStore(database.url);
    // Another connection (a thread, as another process would be) holds the write lock for a while.
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const db = new (require('better-sqlite3'))(workerData.file);
       db.exec("BEGIN IMMEDIATE; INSERT INTO workers (name) VALUES ('holder')");
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { file: database.url.slice('sqlite:'.length), holdMs: 300 } },
    );
    try {
      await new Promise((resolve, reject) => holder.once('message', resolve).once('error', reject));
      await store.recordWorkerConnected('w', {}, T0);
      expect((await store.listWorkers()).map((w) => w.name)).toEqual(['holder', 'w']);
    } finally {
      await holder.terminate();
      await store.close();
      await database.drop();
    }
  });
});
