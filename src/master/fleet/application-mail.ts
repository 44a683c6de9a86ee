/**
 * Joining the farm, the mail side: which mails are due about volunteers'
 * applications, and what they say. Operators hear of a new application at
 * once and are reminded every `remind_every` while it waits; the volunteer
 * hears the decision. Pure: the ledger of sent mail (`SentAlert`s, keyed by
 * `application/ID`, the submission time and a sequence) is passed in, so a
 * restarted master sends nothing twice.
 */
import type { Millis } from '../domain.js';
import type { MailMessage } from '../notify/mailer.js';
import type { Application } from '../store/store.js';
import { humanDuration, utcTime, workerAddress } from './fleet-mail.js';
import { recipients } from './missing-workers.js';
import type { FleetAlert, SentAlert } from './types.js';

/** The ledger's worker key for an application's mail. */
export function applicationKey(id: number): string {
  return `application/${id}`;
}

/** What the decisions need from the config. */
export interface ApplicationMailSettings {
  /** `fleet.operators`. */
  operators: readonly string[];
  /** `fleet.remind_every`; 0 or less: no reminders. */
  remindEvery: Millis;
}

/**
 * The mails due at `now`. For a pending application: sequence 0 (it
 * arrived), then the latest reminder due (1, 2...), each once; reminders
 * missed while the master was down are not sent in a burst, only the latest.
 * For a decided one: the decision to its volunteer, once.
 */
export function decideApplicationMail(
  applications: readonly Application[],
  sent: readonly SentAlert[],
  now: Millis,
  settings: ApplicationMailSettings,
): FleetAlert[] {
  const operators = recipients(settings.operators);
  const alerts: FleetAlert[] = [];
  for (const application of applications) {
    const worker = applicationKey(application.id);
    const episode = application.submittedAt;
    const mine = sent.filter((s) => s.worker === worker && s.episode === episode);
    const has = (kind: FleetAlert['kind'], sequence: number) => mine.some((s) => s.kind === kind && s.sequence === sequence);
    if (application.state === 'pending') {
      if (operators.length === 0) continue;
      const due = settings.remindEvery > 0 ? Math.max(0, Math.floor((now - episode) / settings.remindEvery)) : 0;
      if (!has('application', due)) alerts.push({ kind: 'application', worker, episode, sequence: due, to: operators });
    } else if (!has('decision', 0)) {
      const to = recipients([application.contact]);
      if (to.length > 0) alerts.push({ kind: 'decision', worker, episode, sequence: 0, to });
    }
  }
  return alerts;
}

/** When the next reminder about a pending application falls due (null: none). */
export function nextApplicationMailAt(applications: readonly Application[], now: Millis, settings: ApplicationMailSettings): Millis | null {
  if (settings.remindEvery <= 0 || settings.operators.length === 0) return null;
  let next: Millis | null = null;
  for (const application of applications) {
    if (application.state !== 'pending') continue;
    const elapsed = Math.max(0, now - application.submittedAt);
    const at = application.submittedAt + (Math.floor(elapsed / settings.remindEvery) + 1) * settings.remindEvery;
    next = next === null ? at : Math.min(next, at);
  }
  return next;
}

/** What the application mails name besides the application. */
export interface ApplicationMailContext {
  now: Millis;
  publicUrl: string;
  /** Platforms the proposed machine would count for, and builders it could run. */
  platforms: string[];
  builders: string[];
  /** Applications waiting, this one included (operators see the backlog). */
  pending: number;
}

function dimensionsText(dimensions: Readonly<Record<string, string>>): string {
  const entries = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '(none)';
}

/** The mail an alert stands for. */
export function applicationMail(alert: FleetAlert, application: Application, context: ApplicationMailContext): MailMessage {
  const base = context.publicUrl.replace(/\/+$/, '');
  const headers = { 'X-Shepherd-Application': String(application.id), 'X-Shepherd-Alert': alert.kind };
  if (alert.kind === 'decision') return decisionMail(alert, application, base, headers);
  const waiting = humanDuration(context.now - application.submittedAt);
  const subject =
    alert.sequence === 0
      ? `[shepherd] New worker offered: ${application.name} (${dimensionsText(application.dimensions)})`
      : `[shepherd] Reminder: worker ${application.name} offered ${waiting} ago is waiting for a decision`;
  const text = [
    alert.sequence === 0
      ? `${application.contact} offers a worker to the farm.`
      : `${application.contact} offered a worker ${waiting} ago; nobody has decided yet.`,
    '',
    `  Name:        ${application.name}`,
    `  Dimensions:  ${dimensionsText(application.dimensions)}`,
    `  Max builds:  ${application.maxBuilds}`,
    `  Offered:     ${utcTime(application.submittedAt)}`,
    `  Platforms:   ${context.platforms.length > 0 ? context.platforms.join(', ') : '(none of the configured platforms)'}`,
    `  Builders:    ${context.builders.length > 0 ? context.builders.join(', ') : '(no builder selects these dimensions)'}`,
    ...(application.notes ? ['', 'Notes:', ...application.notes.split('\n').map((line) => `  ${line}`)] : []),
    '',
    'Approve or decline it:',
    `  shepherd applications approve ${application.id}`,
    `  shepherd applications decline ${application.id} --reason "..."`,
    `  ${base}/applications`,
    '',
    `${context.pending} application${context.pending === 1 ? '' : 's'} waiting in all. You will be reminded while this one waits.`,
  ].join('\n');
  return { to: alert.to, subject, text, headers };
}

function decisionMail(alert: FleetAlert, application: Application, base: string, headers: Record<string, string>): MailMessage {
  if (application.state === 'approved') {
    return {
      to: alert.to,
      subject: `[shepherd] Your worker ${application.worker} was approved`,
      text: [
        `Thank you: your offer of a worker was approved as "${application.worker}".`,
        '',
        'Collect its secret (shown once) and the command that starts it with the token you got when you applied:',
        `  shepherd join --master ${base} --status ${application.id} --token YOUR_TOKEN`,
        `or open ${base}/join and enter application ${application.id} and the token.`,
        '',
        `It connects to ${workerAddress(base)}. You will be mailed if it goes missing; pause it for maintenance with`,
        `  shepherd worker pause ${application.worker} --secret-env SHEPHERD_WORKER_SECRET`,
      ].join('\n'),
      headers,
    };
  }
  return {
    to: alert.to,
    subject: `[shepherd] Your offer of worker ${application.name} was declined`,
    text: [
      `Thank you for offering a worker. The farm's operators declined it${application.decidedBy ? ` (${application.decidedBy})` : ''}:`,
      '',
      ...(application.reason ?? '(no reason given)').split('\n').map((line) => `  ${line}`),
      '',
      `You may offer another machine at ${base}/join.`,
    ].join('\n'),
    headers,
  };
}
