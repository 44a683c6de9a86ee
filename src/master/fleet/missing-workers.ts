/**
 * Escalation for missing workers: which mails are due about a worker now,
 * given the ledger of those already sent. Pure: the service records what it
 * sends, so a restarted master decides the same and sends nothing twice.
 *
 * One disconnection is one episode, keyed by its start time. In an episode:
 * one `missing` mail to the admins at `missingAfter`; then a `reminder`
 * every `remindEvery` (only the latest one due, so a master that was down
 * does not catch up with a burst); at `orphanAfter` one `orphaned` call for
 * volunteers to the announce list (reminders stop: the admins have not
 * answered for that long). Once the worker is back, one `recovered` mail to
 * everyone who was told about the episode.
 *
 * Maintenance windows: while one is open, no missing, reminder or orphaned
 * mail is sent; a window that opened before the worker became missing
 * restarts the count from its end (`absenceSince`).
 */
import type { Millis } from '../domain.js';
import { addressOf } from '../notify/mailer.js';
import { inMaintenance, maintenanceEndsAt, nextMaintenanceAt, type Maintained } from './maintenance.js';
import { absenceSince, orphanAfterOf } from './presence.js';
import type { AlertKind, FleetAlert, FleetWorker, SentAlert } from './types.js';

/** The alert kinds about a worker's absence (the ledger holds others too). */
const ABSENCE_KINDS: ReadonlySet<string> = new Set(['missing', 'reminder', 'orphaned', 'recovered']);

/** The fleet settings the decisions use (all in milliseconds). */
export interface EscalationSettings {
  remindEvery: Millis;
  orphanAfter: Millis;
  announce: string[];
}

function sentAlready(sent: readonly SentAlert[], kind: AlertKind, episode: Millis, sequence: number): boolean {
  return sent.some((s) => s.kind === kind && s.episode === episode && s.sequence === sequence);
}

/** Entries with a mail address, the first spelling of each address kept (case-insensitively). */
export function recipients(entries: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of entries) {
    const address = addressOf(entry)?.toLowerCase();
    if (address === undefined || seen.has(address)) continue;
    seen.add(address);
    out.push(entry.trim());
  }
  return out;
}

/** The n-th reminder due at `now` (0: none yet), counted from when the worker became missing. */
export function reminderSequence(worker: FleetWorker & Maintained, now: Millis, remindEvery: Millis): number {
  if (worker.disconnectedAt === null || remindEvery <= 0) return 0;
  const missingSince = absenceSince(worker, now) + worker.missingAfter;
  return now < missingSince ? 0 : Math.floor((now - missingSince) / remindEvery);
}

/**
 * The mails due about `worker` at `now` that are not in `sent` (this
 * worker's ledger). Paused workers raise nothing. A recovery is due for
 * every earlier episode someone was told about and that has no `recovered`
 * yet, once the worker is connected (or has since begun a later
 * disconnection: it came back in between).
 */
export function decideAlerts(worker: FleetWorker & Maintained, sent: readonly SentAlert[], now: Millis, fleet: EscalationSettings): FleetAlert[] {
  if (worker.paused) return [];
  const alerts: FleetAlert[] = [];
  const alert = (kind: AlertKind, episode: Millis, sequence: number, to: string[]): void => {
    if (to.length > 0 && !sentAlready(sent, kind, episode, sequence)) alerts.push({ kind, worker: worker.name, episode, sequence, to });
  };

  const current = worker.connected ? null : worker.disconnectedAt;
  const told = new Map<Millis, SentAlert[]>();
  for (const s of sent) {
    // The ledger also holds digests and suspect-worker mails: only absences have episodes to recover from.
    if (!ABSENCE_KINDS.has(s.kind)) continue;
    if (s.worker !== worker.name || s.episode === current) continue;
    told.set(s.episode, [...(told.get(s.episode) ?? []), s]);
  }
  const cameBack = (episode: Millis) => worker.connected || (current !== null && current > episode);
  for (const [episode, alertsSent] of [...told].sort(([a], [b]) => a - b)) {
    if (!cameBack(episode) || alertsSent.some((s) => s.kind === 'recovered')) continue;
    alert('recovered', episode, 0, recipients(alertsSent.flatMap((s) => s.to)));
  }

  if (current === null || inMaintenance(worker.maintenance ?? [], now)) return alerts;
  const since = absenceSince(worker, now);
  if (now - since < worker.missingAfter) return alerts;
  const admins = recipients(worker.admins);
  const orphanAt = since + orphanAfterOf(worker, fleet.orphanAfter);
  alert('missing', current, 0, admins);
  // A reminder follows a missing mail sent earlier, never one decided in the same breath.
  const n = reminderSequence(worker, now, fleet.remindEvery);
  if (now < orphanAt && n >= 1 && sentAlready(sent, 'missing', current, 0)) alert('reminder', current, n, admins);
  if (now >= orphanAt) alert('orphaned', current, 0, recipients(fleet.announce));
  return alerts;
}

/**
 * The next time after `now` at which `decideAlerts` or the worker's state
 * may change without anything else happening (null: only an event can
 * change them), for the service's timer.
 */
export function nextDecisionAt(worker: FleetWorker & Maintained, _sent: readonly SentAlert[], now: Millis, fleet: EscalationSettings): Millis | null {
  if (worker.paused || worker.connected || worker.disconnectedAt === null) return null;
  const since = absenceSince(worker, now);
  const missingAt = since + worker.missingAfter;
  const orphanAt = since + orphanAfterOf(worker, fleet.orphanAfter);
  const candidates = [missingAt, orphanAt];
  // A window opening may excuse the absence (or hold its mails); one closing lets them through.
  const windows = worker.maintenance ?? [];
  for (const at of [maintenanceEndsAt(windows, now), nextMaintenanceAt(windows, now)]) if (at !== null) candidates.push(at);
  if (fleet.remindEvery > 0) {
    const nextReminder = missingAt + (reminderSequence(worker, now, fleet.remindEvery) + 1) * fleet.remindEvery;
    if (nextReminder < orphanAt) candidates.push(nextReminder);
  }
  const future = candidates.filter((t) => t > now);
  return future.length > 0 ? Math.min(...future) : null;
}
