import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/databases.js';
import { ManualClock } from '../clock.js';
import type { Store } from '../store/store.js';
import { buildsToDelete, startFileRetention } from './retention.js';
import { StoredFiles } from './stored-files.js';

const DAY = 86_400_000;
const NOW = 1_700_000_000_000;

describe('buildsToDelete', () => {
  const policy = { keepForMs: 30 * DAY, maxTotalBytes: 100 };

  it('deletes builds whose files are older than keep_for', () => {
    const usage = [
      { buildId: 1, bytes: 10, newestAt: NOW - 31 * DAY },
      { buildId: 2, bytes: 10, newestAt: NOW - 29 * DAY },
    ];
    expect(buildsToDelete(usage, policy, NOW)).toEqual([1]);
  });

  it('then the oldest builds while the total is over max_total, whole builds at a time', () => {
    const usage = [
      { buildId: 3, bytes: 50, newestAt: NOW - 1 * DAY },
      { buildId: 1, bytes: 40, newestAt: NOW - 3 * DAY },
      { buildId: 2, bytes: 30, newestAt: NOW - 2 * DAY },
      { buildId: 4, bytes: 500, newestAt: NOW - 40 * DAY },
    ];
    // 120 kept after the expired one: dropping the oldest (1, 40 bytes) brings it to 80.
    expect(buildsToDelete(usage, policy, NOW)).toEqual([1, 4]);
    expect(buildsToDelete(usage, { ...policy, maxTotalBytes: 49 }, NOW)).toEqual([1, 2, 3, 4]);
    expect(buildsToDelete(usage, { keepForMs: 100 * DAY, maxTotalBytes: 10_000 }, NOW)).toEqual([]);
  });
});

describe('the retention service', () => {
  let store: Store;
  let dataDir: string;
  beforeEach(async () => {
    store = await openTestStore('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'shepherd-retention-'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function buildWithFile(createdAt: number, size: number): Promise<number> {
    const request = await store.enqueueRequest({ builder: 'b', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: createdAt });
    const { build, steps } = (await store.startBuild({ requestId: request.id, builder: 'b', worker: 'w', properties: {}, steps: ['s'], startedAt: createdAt }))!;
    const path = `files/${build.id}/${steps[0]!.id}/artifact/a.log`;
    mkdirSync(join(dataDir, `files/${build.id}/${steps[0]!.id}/artifact`), { recursive: true });
    writeFileSync(join(dataDir, path), 'x');
    await store.addStepFile({ buildId: build.id, stepId: steps[0]!.id, kind: 'artifact', name: 'a.log', size, path, createdAt, skipped: null });
    return build.id;
  }

  it('deletes expired builds\' rows and directories at start and every hour after', async () => {
    const clock = new ManualClock(NOW);
    const old = await buildWithFile(NOW - 31 * DAY, 10);
    const young = await buildWithFile(NOW - 30 * DAY + 1800_000, 10);
    const retention = startFileRetention({
      store,
      files: new StoredFiles({ store, dataDir }),
      clock,
      logger: pino({ level: 'silent' }),
      policy: { keepForMs: 30 * DAY, maxTotalBytes: 1e9 },
    });
    try {
      // The pass at start (queued before this one) took the old build.
      expect(await retention.runOnce()).toEqual([]);
      expect(existsSync(join(dataDir, 'files', String(old)))).toBe(false);
      expect(await store.listStepFiles({ buildId: old })).toEqual([]);
      expect(existsSync(join(dataDir, 'files', String(young)))).toBe(true);
      // An hour later the young build has aged past keep_for too: the hourly pass takes it.
      clock.advance(3_600_000);
    } finally {
      await retention.stop();
    }
    expect(await store.listStepFiles({})).toEqual([]);
    expect(existsSync(join(dataDir, 'files', String(young)))).toBe(false);
  });
});
