/**
 * The simulator's report as text: one table of faults (what was expected,
 * when it was detected, who was told) and the alerts the noise raised, so a
 * test run shows what the farm's decisions did.
 */
import type { SimulationReport } from './simulate.js';
import { formatDuration, formatMoment } from './simulate.js';

/** Left-aligned columns separated by two spaces, with a rule under the header. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Only the address of "Name <address>", to keep the table narrow. */
const short = (to: string) => /<([^>]+)>/.exec(to)?.[1] ?? to;

/** The report as a readable text block. */
export function formatReport(report: SimulationReport, elapsedMs?: number): string {
  const { farm, stats } = report;
  const head =
    `Farm simulation (seed ${report.seed}): ${farm.workers} workers, ${farm.builders} builders, ${farm.platforms} platforms, ` +
    `${formatDuration(report.duration)} simulated from ${new Date(report.start).toISOString().slice(0, 10)}` +
    (elapsedMs === undefined ? '' : ` in ${(elapsedMs / 1000).toFixed(2)}s`) +
    `\n${stats.revisions} revisions, ${stats.builds} builds, ${stats.fleetRuns} fleet decision runs, ${stats.healthRuns} health decision runs; ` +
    `builders nobody can run: ${farm.uncoverable.length === 0 ? 'none' : farm.uncoverable.join(', ')}`;
  const faults = table(
    ['fault', 'expected', 'subject', 'injected', 'detected after', 'limit', 'told whom', 'ok'],
    report.results.map((r) => [
      r.fault,
      r.what,
      r.subject,
      formatMoment(r.injectedAt, report.start),
      r.delay === null ? 'NOT DETECTED' : formatDuration(r.delay),
      formatDuration(r.within),
      r.told.map(short).join(', ') || '-',
      r.ok ? 'yes' : 'NO',
    ]),
  );
  const counts = new Map<string, number>();
  for (const a of report.alerts) counts.set(`${a.fault ?? 'noise'}: ${a.kind}`, (counts.get(`${a.fault ?? 'noise'}: ${a.kind}`) ?? 0) + 1);
  const all = table(['raised by', 'count'], [...counts].map(([k, n]) => [k, String(n)]));
  const noise = report.noise.map((n) => `  ${n.name}: ${n.injections} injections`).join('\n');
  const falseAlarms =
    report.noiseAlerts.length === 0
      ? 'Alerts raised by noise: none'
      : `Alerts raised by noise (${report.noiseAlerts.length}):\n` +
        table(
          ['at', 'kind', 'subject', 'detail'],
          report.noiseAlerts.map((a) => [formatMoment(a.at, report.start), a.kind, a.subject, a.detail]),
        );
  return [head, '', faults, '', 'Every alert raised:', all, '', 'Noise injected:', noise, falseAlarms].join('\n');
}
