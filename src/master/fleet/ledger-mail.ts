/**
 * Sending a fleet mail and recording it in the alert ledger: the one way the
 * fleet, the digest and the applications mail anybody. A mail the server
 * refuses for good (`permanent`, an unknown mailbox) is recorded as sent too,
 * so it is not tried forever; any other failure leaves it unrecorded, to be
 * tried again.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { MailMessage, Mailer } from '../notify/mailer.js';
import type { Store } from '../store/store.js';
import type { FleetAlert } from './types.js';

/** What sending needs. */
export interface LedgerMailDeps {
  mailer: Mailer;
  store: Pick<Store, 'recordAlerts'>;
  clock: Pick<Clock, 'now'>;
  log: Logger;
}

/** Sends `message` for `alert`, then records it; false when it should be tried again. */
export async function sendAndRecord(deps: LedgerMailDeps, message: MailMessage, alert: FleetAlert): Promise<boolean> {
  const about = { worker: alert.worker, kind: alert.kind, episode: alert.episode, sequence: alert.sequence, to: alert.to };
  try {
    await deps.mailer.send(message);
    deps.log.info(about, 'fleet mail sent');
  } catch (error) {
    const permanent = (error as { permanent?: unknown }).permanent === true;
    deps.log.error({ err: error, ...about, permanent }, permanent ? 'fleet mail refused for good; not retried' : 'fleet mail failed; retrying later');
    if (!permanent) return false;
  }
  await deps.store.recordAlerts([{ ...alert, sentAt: deps.clock.now() }]);
  return true;
}
