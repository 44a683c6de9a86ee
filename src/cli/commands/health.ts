/**
 * `shepherd health`: the farm's health score, each platform's, and what to
 * act on first; then the red and stale builders, suspect workers and missing
 * workers behind it.
 */
import type { Command } from 'commander';
import type { HealthJson } from '../../master/api/schemas.js';
import { getHealth } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatAgo, shortRevision } from '../format.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';

/** Registers `health`. */
export function registerHealthCommand(program: Command): void {
  withClientOptions(program.command('health').description("show the farm's health score and what to act on first")).action(
    async function health(flags: ClientFlags) {
      const document = await getHealth(connectionFrom(flags));
      await (flags.json ? printJson(document) : writeStdout(formatHealth(document, Date.now())));
    },
  );
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
  return lines.join('');
}
