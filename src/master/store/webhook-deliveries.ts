/**
 * Webhook deliveries: GitHub, GitLab and Gitea redeliver a hook (by hand, or
 * after a timeout) under the same delivery id; remembering the ids lets the
 * master handle each push once, even with two masters behind one address.
 */
import type { Millis } from '../domain.js';
import type { Db } from './tables.js';

/** Records a delivery id; true the first time, false when it was already recorded. */
export async function recordDelivery(db: Db, provider: string, deliveryId: string, at: Millis): Promise<boolean> {
  const result = await db
    .insertInto('webhook_deliveries')
    .values({ provider, delivery_id: deliveryId, received_at: at })
    // One statement: two masters receiving the same delivery cannot both see it as new.
    .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
