/**
 * Builds as people read them: the `builds` list and the step summary that
 * `force --wait` prints at the end.
 */
import type { BuildDetailJson, BuildJson } from '../master/api/schemas.js';
import { formatBlamelist } from './change-table.js';
import { formatDuration, formatTimestamp, shortRevision } from './format.js';
import { formatTable } from './table.js';

/** How long something ran; still running: so far, marked with `+`. */
function elapsed(startedAt: number | null, finishedAt: number | null, now: number): string {
  if (startedAt === null) return '';
  return finishedAt === null ? `${formatDuration(now - startedAt)}+` : formatDuration(finishedAt - startedAt);
}

/** The `shepherd builds` table. */
export function formatBuildsTable(builds: readonly BuildJson[], now: number): string {
  return formatTable(
    ['id', 'builder', 'number', 'result', 'revision', 'worker', 'started', 'duration'],
    builds.map((b) => [
      String(b.id),
      b.builder,
      `#${b.number}`,
      b.result ?? b.state,
      shortRevision(b.revision),
      b.worker,
      formatTimestamp(b.started_at),
      elapsed(b.started_at, b.finished_at, now),
    ]),
  );
}

/** The steps of one build, the changes it is the first to build, and a closing line with its revision and result. */
export function formatBuildSummary(build: BuildDetailJson, now: number): string {
  const table = formatTable(
    ['#', 'step', 'result', 'duration', 'exit'],
    build.steps.map((s) => [
      String(s.index),
      s.name,
      s.result ?? s.state,
      elapsed(s.started_at, s.finished_at, now),
      s.exit_code !== null ? String(s.exit_code) : (s.signal ?? ''),
    ]),
  );
  const took = elapsed(build.started_at, build.finished_at, now);
  const summary = build.summary ? `: ${build.summary}` : '';
  const at = build.revision ? ` at ${shortRevision(build.revision)}` : '';
  const blamelist = formatBlamelist(build.blamelist);
  return `${table}${blamelist}${build.builder} #${build.number} (build ${build.id})${at}: ${build.result ?? build.state} in ${took}${summary}\n`;
}
