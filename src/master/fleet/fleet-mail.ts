/**
 * What the fleet's mails say: that a worker is missing (and how to bring it
 * back), reminders, the call for volunteers when it is orphaned, and that it
 * recovered. Pure: everything the text names is passed in.
 */
import type { Millis } from '../domain.js';
import type { MailMessage } from '../notify/mailer.js';
import type { FleetAlert, FleetWorker, PlatformCoverage } from './types.js';

/** Everything a fleet mail names besides the alert itself. */
export interface FleetMailContext {
  worker: Pick<FleetWorker, 'name' | 'dimensions' | 'admins'>;
  now: Millis;
  /** The master's web address (`master.public_url`); the worker address is derived from it. */
  publicUrl: string;
  /** Builders this worker can run. */
  builders: string[];
  /** Builders whose only live workers are gone with this one. */
  shortBuilders: string[];
  /** The platforms this worker counts for (those below their redundancy are `short`). */
  platforms: PlatformCoverage[];
  /** The worker's notes (config or admin), shown with the call for volunteers. */
  notes?: string | null;
}

/** `2 days 3 hours`, `5 minutes`, `12 seconds`: how long, for people. */
export function humanDuration(ms: number): string {
  const units: [string, number][] = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]];
  const parts: string[] = [];
  let left = Math.max(0, Math.round(ms / 1000) * 1000);
  for (const [name, size] of units) {
    const count = Math.floor(left / size);
    if (count === 0) continue;
    parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    left -= count * size;
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : 'less than a second';
}

/** An absolute time for mail: `2026-11-27 23:57:48 UTC`. */
export function utcTime(ms: Millis): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** The address workers connect to: the master's web address with ws(s) for http(s). */
export function workerAddress(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
}

function dimensionsText(dimensions: Readonly<Record<string, string>>): string {
  const entries = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '(none reported)';
}

function platformLine(p: PlatformCoverage): string {
  return `${p.name} (tier ${p.tier}): ${p.live.length} live of ${p.redundancy} wanted`;
}

function shortSection(context: FleetMailContext): string[] {
  const shortPlatforms = context.platforms.filter((p) => p.short);
  const lines: string[] = [];
  lines.push(
    context.shortBuilders.length > 0
      ? `Builders with no live worker now: ${context.shortBuilders.join(', ')}.`
      : 'Every builder it runs still has another live worker.',
  );
  if (shortPlatforms.length > 0) {
    lines.push('Platforms below their redundancy:');
    for (const p of shortPlatforms) lines.push(`  - ${platformLine(p)}`);
  }
  return lines;
}

function restartSection(context: FleetMailContext): string[] {
  const master = workerAddress(context.publicUrl);
  const name = context.worker.name;
  return [
    'To bring it back, start the agent on the machine again, with its usual settings:',
    '',
    `  node shepherd-worker.mjs --master ${master} --name ${name} --secret-env VAR --dir DIR`,
    `  (or: shepherd worker --master ${master} --name ${name} --secret-env VAR --dir DIR)`,
    '',
    'If the machine is gone for good or you can no longer look after it, reply and say so,',
    'so that someone else can take over its platform.',
  ];
}

function mail(alert: FleetAlert, subject: string, lines: string[]): MailMessage {
  return {
    to: alert.to,
    subject,
    text: `${lines.join('\n')}\n`,
    headers: { 'X-Shepherd-Worker': alert.worker, 'X-Shepherd-Alert': alert.sequence > 0 ? `${alert.kind}-${alert.sequence}` : alert.kind },
  };
}

/** The mail for one alert. */
export function fleetMail(alert: FleetAlert, context: FleetMailContext): MailMessage {
  const { worker, now } = context;
  const since = `since ${utcTime(alert.episode)} (${humanDuration(now - alert.episode)})`;
  const link = `${context.publicUrl.replace(/\/+$/, '')}/workers/${encodeURIComponent(worker.name)}`;
  const about = [`Worker: ${worker.name}`, `Dimensions: ${dimensionsText(worker.dimensions)}`, `Runs builders: ${context.builders.join(', ') || '(none)'}`];
  switch (alert.kind) {
    case 'missing':
      return mail(alert, `[shepherd] worker ${worker.name} is missing`, [
        `The worker ${worker.name} has been disconnected ${since}.`,
        'You are listed as its admin.',
        '',
        ...about,
        '',
        ...shortSection(context),
        '',
        ...restartSection(context),
        '',
        link,
      ]);
    case 'reminder':
      return mail(alert, `[shepherd] reminder ${alert.sequence}: worker ${worker.name} is still missing`, [
        `The worker ${worker.name} is still disconnected, ${since}.`,
        '',
        ...about,
        '',
        ...shortSection(context),
        '',
        ...restartSection(context),
        '',
        link,
      ]);
    case 'orphaned': {
      const platforms = context.platforms.length > 0 ? context.platforms.map((p) => `  - ${platformLine(p)}`) : ['  - (no configured platform; its dimensions above describe it)'];
      return mail(alert, `[shepherd] volunteers wanted: worker ${worker.name} is orphaned`, [
        `The worker ${worker.name} has been missing ${since}, and its admins have not brought it back.`,
        'Its platform needs a new machine and someone to look after it.',
        '',
        ...about,
        ...(context.notes ? [`Notes: ${context.notes}`] : []),
        'Platforms:',
        ...platforms,
        '',
        ...shortSection(context),
        '',
        'To offer a machine with these dimensions, reply to this mail or write to the',
        `operators of ${context.publicUrl.replace(/\/+$/, '')} with its dimensions and your contact.`,
        'Once approved you get a worker name, its secret and the exact command to start',
        'the agent (node shepherd-worker.mjs --master ... --name ... / shepherd worker).',
      ]);
    }
    case 'recovered':
      return mail(alert, `[shepherd] worker ${worker.name} is back`, [
        `The worker ${worker.name} is connected again, ${utcTime(now)}, after being away ${humanDuration(now - alert.episode)} (since ${utcTime(alert.episode)}).`,
        'You are receiving this because you were told it was missing.',
        '',
        ...about,
        '',
        link,
      ]);
    default:
      // The digest and suspect-worker mails are written by digest.ts.
      throw new Error(`fleet-mail: no mail for an alert of kind ${alert.kind}`);
  }
}
