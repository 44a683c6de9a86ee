/**
 * What the weekly digest and the suspect-worker mail say. Pure: the text is
 * made from the health document (`readHealth`, as `GET /api/v1/health`
 * answers it) and an injected `now`, so it can be tested without a farm.
 */
import type { HealthJson } from '../api/schemas.js';
import type { Millis } from '../domain.js';
import type { MailMessage } from '../notify/mailer.js';
import { humanDuration, utcTime } from './fleet-mail.js';

/** A mail's subject, text and headers; the caller addresses it. */
export type MailContent = Omit<MailMessage, 'to'>;

/** One suspect worker as the health document lists it. */
export type SuspectJson = HealthJson['suspect_workers'][number];

function base(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '');
}

function buildLink(publicUrl: string, id: number): string {
  return `${base(publicUrl)}/builds/${id}`;
}

function shortRevision(revision: string): string {
  return /^[0-9a-f]{13,}$/i.test(revision) ? revision.slice(0, 12) : revision;
}

function since(at: Millis | null, now: Millis): string {
  return at === null ? 'never seen' : `since ${utcTime(at)} (${humanDuration(now - at)})`;
}

function evidenceLines(suspect: SuspectJson, publicUrl: string, indent: string): string[] {
  return suspect.evidence.map(
    (e) =>
      `${indent}${e.builder} at ${shortRevision(e.revision)}: failed ${buildLink(publicUrl, e.failed_build_id)}, ` +
      `passed on ${e.passed_on} ${buildLink(publicUrl, e.passed_build_id)}`,
  );
}

/**
 * The weekly digest for the announce list: the farm score, workers missing
 * or orphaned, platforms below redundancy (tier 1 first), builders red
 * longest, suspect workers with their evidence; "all well" when none.
 */
export function digestMail(health: HealthJson, now: Millis, publicUrl: string): MailContent {
  const missing = [...health.missing_workers].sort(
    (a, b) => (a.state === b.state ? 0 : a.state === 'orphaned' ? -1 : 1) || (a.since ?? 0) - (b.since ?? 0) || a.name.localeCompare(b.name),
  );
  const short = health.platforms.filter((p) => p.short).sort((a, b) => a.tier - b.tier || a.live - b.live || a.name.localeCompare(b.name));
  const red = [...health.red_builders].sort((a, b) => a.since - b.since || a.builder.localeCompare(b.builder));
  const suspects = [...health.suspect_workers].sort((a, b) => a.since - b.since || a.worker.localeCompare(b.worker));
  const allWell = missing.length + short.length + red.length + suspects.length === 0;

  const lines = [`Farm health: ${health.score}/100 on ${utcTime(now)}.`, ''];
  if (allWell) {
    lines.push('All well: no worker missing, every platform has the live workers it wants, no builder red for long, no suspect worker.', '');
  }
  if (missing.length > 0) {
    lines.push(`Workers missing or orphaned (${missing.length}):`);
    for (const w of missing) {
      const admins = w.admins.length > 0 ? w.admins.join(', ') : 'no admin known';
      lines.push(`  - ${w.name}: ${w.state} ${since(w.since, now)}; admins: ${admins}`);
    }
    lines.push('');
  }
  if (short.length > 0) {
    lines.push(`Platforms below redundancy (${short.length}):`);
    for (const p of short) lines.push(`  - ${p.name} (tier ${p.tier}): ${p.live} live of ${p.redundancy} wanted`);
    lines.push('');
  }
  if (red.length > 0) {
    lines.push(`Builders red longest (${red.length}):`);
    for (const r of red) {
      lines.push(
        `  - ${r.builder}: ${r.count} failing build${r.count === 1 ? '' : 's'} in a row ${since(r.since, now)}; ` +
          `first failing: ${buildLink(publicUrl, r.first_failing_build_id)}`,
      );
    }
    lines.push('');
  }
  if (suspects.length > 0) {
    lines.push(`Suspect workers (${suspects.length}): they failed revisions other workers of the same builder passed.`);
    for (const s of suspects) {
      lines.push(`  - ${s.worker}: ${s.count} case${s.count === 1 ? '' : 's'} ${since(s.since, now)}`);
      lines.push(...evidenceLines(s, publicUrl, '      '));
    }
    lines.push('');
  }
  lines.push(`The whole picture: ${base(publicUrl)}/api/v1/health`, '');
  return {
    subject: `[shepherd] Weekly digest: farm health ${health.score}/100${allWell ? ', all well' : ''}`,
    text: lines.join('\n'),
    headers: { 'X-Shepherd-Alert': 'digest' },
  };
}

/**
 * The mail to a suspect worker's admins: which revisions it failed that
 * another worker of the same builder passed, with links to both builds, so
 * they can look at the machine before its failures are taken for bugs.
 * `paused`: the master paused it (`fleet.health.auto_pause_suspects`), and
 * the mail says so and how to resume it.
 */
export function suspectMail(suspect: SuspectJson, publicUrl: string, options: { paused?: boolean } = {}): MailContent {
  const page = `${base(publicUrl)}/workers/${encodeURIComponent(suspect.worker)}`;
  const ending = options.paused
    ? [
        `Shepherd has paused ${suspect.worker} so it takes no new builds (a running one finishes); it stays paused until you resume it.`,
        'Once the machine is fixed, resume it with its secret:',
        '',
        `  shepherd worker resume ${suspect.worker} --master ${base(publicUrl)}`,
        '',
        `(or from ${page}). Shepherd will not pause it again for these failures.`,
      ]
    : [`Please look at it; you can pause it from ${page} while you do.`];
  const lines = [
    `Your worker ${suspect.worker} failed ${suspect.count} build${suspect.count === 1 ? '' : 's'} since ${utcTime(suspect.since)} ` +
      'that other workers of the same builder passed at the same revision:',
    '',
    ...evidenceLines(suspect, publicUrl, '  - '),
    '',
    'The machine may be at fault (disk space, a toolchain or library out of date, flaky hardware) rather than the code.',
    ...ending,
    '',
  ];
  return {
    subject: `[shepherd] Worker ${suspect.worker} ${options.paused ? 'paused: it fails' : 'fails'} builds other workers pass`,
    text: lines.join('\n'),
    headers: { 'X-Shepherd-Worker': suspect.worker, 'X-Shepherd-Alert': 'suspect' },
  };
}
