/**
 * The ledger of missing-worker alerts sent. An alert is one fact about one
 * disconnection episode (worker, episode, kind, sequence); its unique key
 * means a restarted master, or two masters deciding the same alert at once,
 * record it once, and only the one that recorded it mails it.
 */
import type { Millis } from '../domain.js';
import type { SentAlert } from '../fleet/types.js';
import { toSentAlert } from './rows.js';
import type { Db } from './tables.js';

/**
 * Records alerts in one transaction; per alert (in the order given), true
 * when it was recorded now and false when it already was (also for a
 * repeat within `alerts`).
 */
export async function recordAlerts(db: Db, alerts: readonly SentAlert[]): Promise<boolean[]> {
  if (alerts.length === 0) return [];
  // Inserted in key order, so two masters recording overlapping batches on PostgreSQL take the
  // key locks in the same order and wait for each other instead of deadlocking.
  const order = alerts.map((_, i) => i).sort((a, b) => compareKeys(alerts[a]!, alerts[b]!));
  const recorded = new Array<boolean>(alerts.length).fill(false);
  await db.transaction().execute(async (trx) => {
    for (const i of order) {
      const alert = alerts[i]!;
      const result = await trx
        .insertInto('fleet_alerts')
        .values({
          worker: alert.worker,
          episode: alert.episode,
          kind: alert.kind,
          sequence: alert.sequence,
          recipients: JSON.stringify(alert.to),
          sent_at: alert.sentAt,
        })
        .onConflict((oc) => oc.columns(['worker', 'episode', 'kind', 'sequence']).doNothing())
        .executeTakeFirst();
      recorded[i] = (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    }
  });
  return recorded;
}

/** The alerts recorded, filtered by worker and/or episode, oldest first (by sending time, then by recording). */
export async function listAlerts(db: Db, filter: { worker?: string; episode?: Millis }): Promise<SentAlert[]> {
  let query = db.selectFrom('fleet_alerts').selectAll();
  if (filter.worker !== undefined) query = query.where('worker', '=', filter.worker);
  if (filter.episode !== undefined) query = query.where('episode', '=', filter.episode);
  const rows = await query.orderBy('sent_at').orderBy('id').execute();
  return rows.map(toSentAlert);
}

function compareKeys(a: SentAlert, b: SentAlert): number {
  const byText = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return byText(a.worker, b.worker) || a.episode - b.episode || byText(a.kind, b.kind) || a.sequence - b.sequence;
}
