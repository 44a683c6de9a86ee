/**
 * The farm's health over time: one sample per sampling bucket. The bucket is
 * the key, so several masters sampling the same interval (or one restarting
 * within it) record it once and the history has no duplicates to average.
 */
import type { Millis } from '../domain.js';
import { toHealthSample } from './rows.js';
import type { HealthSample } from './store.js';
import type { Db } from './tables.js';

/** Records a sample; false when its bucket already had one (that one is kept). */
export async function recordHealthSample(db: Db, sample: HealthSample): Promise<boolean> {
  const result = await db
    .insertInto('health_samples')
    .values({ bucket: sample.bucket, at: sample.at, score: sample.score, platforms: JSON.stringify(sample.platforms) })
    .onConflict((oc) => oc.column('bucket').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Samples whose bucket is at or after `since`, oldest first. */
export async function listHealthSamples(db: Db, since: Millis): Promise<HealthSample[]> {
  const rows = await db.selectFrom('health_samples').selectAll().where('bucket', '>=', since).orderBy('bucket').execute();
  return rows.map(toHealthSample);
}
