/**
 * The health history over a real store, on SQLite and PostgreSQL (reopened
 * over the same database to play a master restart). Time is a ManualClock;
 * tests wait on `settled()`.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, testDatabaseUrl, type TestDatabase } from '../../../test/helpers/databases.js';
import type { HealthJson } from '../api/schemas.js';
import { ManualClock } from '../clock.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { bucketOf, sampleOf, startHealthHistory, type HealthHistory } from './health-history.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 10, 30, 8, 20); // 08:20: the 08:00 bucket

function healthOf(score: number, linux = score): HealthJson {
  return {
    score,
    platforms: [
      { name: 'linux-x86_64', tier: 1, score: linux, live: 1, redundancy: 2, short: linux < 100 },
      { name: 'macos-arm64', tier: 2, score: 100, live: 1, redundancy: 1, short: false },
    ],
    red_builders: [],
    stale_builders: [],
    suspect_workers: [],
    missing_workers: [],
    worker_states: {},
    attention: [],
    queue_waits: [],
  };
}

describe('bucketOf and sampleOf', () => {
  it("cuts time into buckets of `every` starting at the epoch", () => {
    expect(bucketOf(T0, HOUR)).toBe(Date.UTC(2026, 10, 30, 8));
    expect(bucketOf(Date.UTC(2026, 10, 30, 8), HOUR)).toBe(Date.UTC(2026, 10, 30, 8));
    expect(bucketOf(Date.UTC(2026, 10, 30, 9) - 1, HOUR)).toBe(Date.UTC(2026, 10, 30, 8));
    expect(bucketOf(T0, 15 * MINUTE)).toBe(Date.UTC(2026, 10, 30, 8, 15));
  });

  it("keeps the farm's score and each platform's by name", () => {
    expect(sampleOf(healthOf(75, 50), 1000, 1234)).toEqual({ bucket: 1000, at: 1234, score: 75, platforms: { 'linux-x86_64': 50, 'macos-arm64': 100 } });
  });
});

describe.each(DATABASES)('health history on %s', (kind) => {
  let database: TestDatabase;
  let store: Store;
  let clock: ManualClock;
  let history: HealthHistory | undefined;
  let health: HealthJson | Error;
  let reads: number;
  let logged: { level: number; msg: string }[];

  beforeEach(async () => {
    database = await testDatabaseUrl(kind);
    store = await openStore(database.url);
    clock = new ManualClock(T0);
    health = healthOf(80);
    reads = 0;
    logged = [];
  });

  afterEach(async () => {
    await history?.stop();
    history = undefined;
    await store.close();
    await database.drop();
  });

  async function start(): Promise<HealthHistory> {
    const lines = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    });
    history = startHealthHistory({
      store,
      clock,
      logger: pino({ level: 'info' }, lines),
      every: HOUR,
      read: async () => {
        reads += 1;
        if (health instanceof Error) throw health;
        return health;
      },
    });
    await history.settled();
    return history;
  }

  /** A master restart: the history and the store closed, both opened again over the same database. */
  async function restart(): Promise<void> {
    await history!.stop();
    await store.close();
    store = await openStore(database.url);
    await start();
  }

  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await history!.settled();
  }

  const samples = async () => (await store.listHealthSamples(0)).map((s) => `${new Date(s.bucket).toISOString().slice(11, 16)} ${s.score}`);

  it('records the current bucket at start-up, then one sample at each bucket boundary', async () => {
    await start();
    expect(await store.listHealthSamples(0)).toEqual([
      { bucket: Date.UTC(2026, 10, 30, 8), at: T0, score: 80, platforms: { 'linux-x86_64': 80, 'macos-arm64': 100 } },
    ]);

    await advance(40 * MINUTE - 1);
    expect(await samples()).toEqual(['08:00 80']);
    health = healthOf(90);
    await advance(1);
    expect(await store.listHealthSamples(Date.UTC(2026, 10, 30, 9))).toEqual([
      { bucket: Date.UTC(2026, 10, 30, 9), at: Date.UTC(2026, 10, 30, 9), score: 90, platforms: { 'linux-x86_64': 90, 'macos-arm64': 100 } },
    ]);

    // Three boundaries passed in one go: three samples, none skipped.
    await advance(3 * HOUR);
    expect(await samples()).toEqual(['08:00 80', '09:00 90', '10:00 90', '11:00 90', '12:00 90']);
    expect(reads).toBe(5);
  });

  it('does not sample a bucket twice across a restart, and does not catch up the buckets it was down for', async () => {
    await start();
    await advance(HOUR);
    await restart();
    await advance(10 * MINUTE);
    expect(await samples()).toEqual(['08:00 80', '09:00 80']);
    expect(reads).toBe(2);

    // Down from 09:30 to 12:10: the 12:00 bucket is taken at start-up, 10:00 and 11:00 stay empty.
    await history!.stop();
    clock.advance(2 * HOUR + 40 * MINUTE);
    health = healthOf(60);
    await restart();
    await advance(50 * MINUTE);
    expect(await samples()).toEqual(['08:00 80', '09:00 80', '12:00 60', '13:00 60']);
  });

  it('logs a failed read, never throws, and samples at the next boundary', async () => {
    health = new Error('database gone away');
    await start();
    expect(await samples()).toEqual([]);
    expect(logged.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(['health sample failed; trying again at the next boundary']);

    health = healthOf(70);
    await advance(40 * MINUTE);
    expect(await samples()).toEqual(['09:00 70']);
  });

  it('samples nothing after stop', async () => {
    await start();
    await history!.stop();
    clock.advance(5 * HOUR);
    await history!.settled();
    expect(await samples()).toEqual(['08:00 80']);
  });

  it('refuses a bucket length that is not above 0', () => {
    expect(() => startHealthHistory({ store, clock, logger: pino({ level: 'silent' }), every: 0, read: async () => healthOf(1) })).toThrow(
      /fleet\.health\.sample_every/,
    );
  });
});
