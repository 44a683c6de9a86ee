/**
 * Workers as people read them (`shepherd workers`, `shepherd workers --retired`).
 */
import type { RetiredWorkerJson, WorkerJson } from '../master/api/schemas.js';
import { formatAgo } from './format.js';
import { instanceSummary } from './latent-table.js';
import { formatTable } from './table.js';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The `shepherd workers` table. */
export function formatWorkersTable(workers: readonly WorkerJson[], now: number): string {
  return formatTable(
    ['name', 'state', 'builds', 'os/arch', 'admin', 'last seen', 'uptime 7d', 'source', 'maintenance'],
    workers.map((w) => {
      // What the agent reported wins; the configured dimensions stand in while it has never connected.
      const os = text(w.info?.os) ?? w.dimensions.os ?? '?';
      const arch = text(w.info?.arch) ?? w.dimensions.arch ?? '?';
      const lastSeen = w.connected ? 'now' : w.last_seen === null ? 'never' : formatAgo(w.last_seen, now);
      // Never seen: no uptime to speak of, rather than a misleading 0%.
      const uptime = w.last_seen === null && !w.connected ? '-' : formatShare(w.uptime.d7);
      return [w.name, w.state, `${w.builds.length}/${w.max_builds}`, `${os}/${arch}`, adminCell(w), lastSeen, uptime, sourceCell(w, now), formatWindows(w.maintenance)];
    }),
  );
}

/** Where the worker comes from; an on-demand instance says its pool, state, age and cost instead. */
function sourceCell(w: WorkerJson, now: number): string {
  return w.instance ? instanceSummary(w.instance, now) : w.source;
}

/** The admins (config, else the contact set, else what the agent reports), marked when the agent disagrees. */
function adminCell(w: WorkerJson): string {
  const admins = w.admins.length > 0 ? w.admins.join(', ') : (text(w.info?.admin) ?? '');
  return w.admin_mismatch ? `${admins} (agent reports ${text(w.info?.admin) ?? '?'})` : admins;
}

/** A share (0 to 1) as a whole percentage, never rounded up to 100% while short of it. */
export function formatShare(share: number): string {
  const percent = Math.round(share * 100);
  return `${share < 1 && percent === 100 ? 99 : percent}%`;
}

/** Milliseconds as a config file writes a duration (`3h`, `90m`, `1500ms`): the largest unit that divides it. */
export function formatWindowDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Maintenance windows as `--window` takes them (`0 2 * * 0/3h`), comma-separated; '' when none. */
export function formatWindows(windows: WorkerJson['maintenance']): string {
  return windows.map((w) => `${w.cron}/${formatWindowDuration(w.duration_ms)}`).join(', ');
}

/** One line per window with where it comes from, for `shepherd worker maintenance`. */
export function formatMaintenance(worker: WorkerJson): string {
  if (worker.maintenance.length === 0) return `${worker.name}: no maintenance windows\n`;
  const lines = worker.maintenance.map((w) => `  ${w.cron}/${formatWindowDuration(w.duration_ms)}  (${w.from === 'admin' ? 'set by its admin' : `from the ${w.from === 'agent' ? "agent's" : "master's"} config`})\n`);
  return `${worker.name}: maintenance windows (cron in UTC / duration):\n${lines.join('')}`;
}

/** The `shepherd workers --retired` table: most recently retired first. */
export function formatRetiredTable(workers: readonly RetiredWorkerJson[], now: number): string {
  if (workers.length === 0) return 'no retired workers\n';
  return formatTable(
    ['name', 'retired', 'by', 'builds run', 'dimensions', 'admins', 'application'],
    workers.map((w) => [
      w.name,
      formatAgo(w.retired_at, now),
      w.retired_by ?? '',
      String(w.builds_run),
      Object.entries(w.dimensions).map(([k, v]) => `${k}=${v}`).join(' '),
      w.admins.join(', '),
      String(w.application_id),
    ]),
  );
}
