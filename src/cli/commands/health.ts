/**
 * `shepherd health`: the farm's health score, each platform's, and what to
 * act on first; then the red and stale builders, suspect workers and missing
 * workers behind it. `--history`: the score over the last days, as a chart.
 */
import type { Command } from 'commander';
import type { HealthHistoryJson, HealthJson } from '../../master/api/schemas.js';
import { parseDays } from '../arguments.js';
import { getHealth, getHealthHistory } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatAgo, formatDuration, formatTimestamp, shortRevision } from '../format.js';
import { usageError } from '../errors.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';

interface HealthFlags extends ClientFlags {
  history?: boolean;
  days?: number;
}

/** Registers `health`. */
export function registerHealthCommand(program: Command): void {
  withClientOptions(
    program
      .command('health')
      .description("show the farm's health score and what to act on first, or its history")
      .option('--history', 'show the score over the last days instead')
      .option('--days <n>', 'with --history: how many days back (default 30)', parseDays),
  ).action(async function health(flags: HealthFlags) {
    if (flags.history) {
      const history = await getHealthHistory(connectionFrom(flags), flags.days);
      await (flags.json ? printJson(history) : writeStdout(formatHealthHistory(history)));
      return;
    }
    if (flags.days !== undefined) throw usageError('--days needs --history');
    const document = await getHealth(connectionFrom(flags));
    await (flags.json ? printJson(document) : writeStdout(formatHealth(document, Date.now())));
  });
}

type HealthSample = HealthHistoryJson['samples'][number];

/** Up to this many samples get a line each; more are shown one line per day. */
export const HISTORY_LINES_PER_SAMPLE = 48;
const BAR_WIDTH = 20;

/** A score (0 to 100) as a bar of BAR_WIDTH characters, `#` filled, `.` empty. */
export function scoreBar(score: number): string {
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.round((score / 100) * BAR_WIDTH)));
  return '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
}

function sampleLine(label: string, sample: HealthSample): string {
  const platforms = Object.entries(sample.platforms).map(([name, score]) => `${name} ${Math.round(score)}`);
  return [label, scoreBar(sample.score), String(Math.round(sample.score)).padStart(3), ...platforms].join('  ').trimEnd() + '\n';
}

/**
 * The history as a chart: one line per sample when there are few, else one
 * per local day showing that day's lowest score (a dip matters more than a
 * mean), with the platforms' scores at that moment. A day without samples
 * (the master was down) says so rather than vanishing.
 */
export function formatHealthHistory(history: HealthHistoryJson): string {
  const samples = history.samples;
  if (samples.length === 0) return 'no health samples yet: the master records one every fleet.health.sample_every\n';
  if (samples.length <= HISTORY_LINES_PER_SAMPLE) {
    return `farm health, one line per sample:\n${samples.map((s) => sampleLine(formatTimestamp(s.at).slice(0, 16), s)).join('')}`;
  }
  const worstByDay = new Map<string, HealthSample>();
  for (const sample of samples) {
    const day = formatTimestamp(sample.at).slice(0, 10);
    const worst = worstByDay.get(day);
    if (!worst || sample.score < worst.score) worstByDay.set(day, sample);
  }
  const lines: string[] = ['farm health, one line per day (its lowest score):\n'];
  const first = new Date(samples[0]!.at);
  const last = formatTimestamp(samples[samples.length - 1]!.at).slice(0, 10);
  // Walks calendar days (not 24 h steps, which DST would skew) from the first sample's to the last's.
  for (let d = new Date(first.getFullYear(), first.getMonth(), first.getDate()); ; d.setDate(d.getDate() + 1)) {
    const day = formatTimestamp(d.getTime()).slice(0, 10);
    const worst = worstByDay.get(day);
    lines.push(worst ? sampleLine(day, worst) : `${day}  (no samples)\n`);
    if (day >= last) break;
  }
  return lines.join('');
}

/**
 * The health as people read it: the score, a table of platforms (short ones
 * marked), what to act on (most costly first), then the details.
 */
export function formatHealth(document: HealthJson, now: number): string {
  const lines: string[] = [`farm health: ${document.score}/100\n`];
  if (document.platforms.length > 0) {
    lines.push(
      '\n',
      formatTable(
        ['platform', 'tier', 'score', 'live', ''],
        document.platforms.map((p) => [p.name, String(p.tier), String(p.score), `${p.live}/${p.redundancy}`, p.short ? 'SHORT' : '']),
      ),
    );
  }
  if (document.attention.length > 0) {
    lines.push('\nact on:\n');
    for (const a of document.attention) lines.push(`  -${a.points.toFixed(1).padStart(5)}  ${a.message}\n`);
  } else {
    lines.push('\nnothing to act on\n');
  }
  for (const r of document.red_builders) {
    lines.push(`red: builder ${r.builder}: ${r.count} failing builds since ${formatAgo(r.since, now)} (first: build ${r.first_failing_build_id})\n`);
  }
  for (const s of document.stale_builders) {
    lines.push(`stale: builder ${s.builder}: a request waiting since ${formatAgo(s.since, now)}\n`);
  }
  for (const s of document.suspect_workers) {
    const cases = s.evidence.map((e) => `${e.builder}@${shortRevision(e.revision)} (build ${e.failed_build_id}; passed on ${e.passed_on})`);
    lines.push(`suspect: worker ${s.worker}: ${s.count} failures others passed: ${cases.join(', ')}\n`);
  }
  for (const w of document.missing_workers) {
    const seen = w.since === null ? 'never seen' : `last seen ${formatAgo(w.since, now)}`;
    lines.push(`${w.state}: worker ${w.name}, ${seen}; admins: ${w.admins.join(', ') || 'none known'}\n`);
  }
  if (document.queue_waits.length > 0) {
    // Longest p95 first (the API's order); the ten worst are what an operator acts on.
    lines.push('\nqueue waits (longest p95 first):\n');
    const rows = document.queue_waits.slice(0, 10).map((w) => [w.builder, w.platform, String(w.builds), formatDuration(w.p50_ms), formatDuration(w.p95_ms)]);
    lines.push(formatTable(['BUILDER', 'PLATFORM', 'BUILDS', 'P50', 'P95'], rows));
    if (document.queue_waits.length > 10) lines.push(`(${document.queue_waits.length - 10} more: --json)\n`);
  }
  return lines.join('');
}
