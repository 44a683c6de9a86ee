/**
 * Workers as people read them (`shepherd workers`).
 */
import type { WorkerJson } from '../master/api/schemas.js';
import { formatAgo } from './format.js';
import { formatTable } from './table.js';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The `shepherd workers` table. */
export function formatWorkersTable(workers: readonly WorkerJson[], now: number): string {
  return formatTable(
    ['name', 'state', 'builds', 'os/arch', 'admin', 'last seen', 'uptime 7d'],
    workers.map((w) => {
      // What the agent reported wins; the configured dimensions stand in while it has never connected.
      const os = text(w.info?.os) ?? w.dimensions.os ?? '?';
      const arch = text(w.info?.arch) ?? w.dimensions.arch ?? '?';
      const lastSeen = w.connected ? 'now' : w.last_seen === null ? 'never' : formatAgo(w.last_seen, now);
      // Never seen: no uptime to speak of, rather than a misleading 0%.
      const uptime = w.last_seen === null && !w.connected ? '-' : formatShare(w.uptime.d7);
      return [w.name, w.state, `${w.builds.length}/${w.max_builds}`, `${os}/${arch}`, adminCell(w), lastSeen, uptime];
    }),
  );
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
