/**
 * Uptime: the share of a window a worker was connected, from its stored
 * sessions (`Store.listWorkerSessions`). Pure, so the 7- and 30-day figures
 * are tested without a database or a clock.
 */
import type { Millis } from '../domain.js';
import type { WorkerSession } from '../store/store.js';

/**
 * The fraction (0 to 1) of [from, to) covered by `sessions`; a session still
 * open counts up to `to`. Overlapping sessions (two masters, clock skew) are
 * counted once; an empty window has no uptime (0).
 */
export function uptimeRatio(sessions: readonly WorkerSession[], from: Millis, to: Millis): number {
  if (to <= from) return 0;
  const spans = sessions
    .map((s) => [Math.max(s.connectedAt, from), Math.min(s.disconnectedAt ?? to, to)] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reached = from;
  for (const [start, end] of spans) {
    if (end <= reached) continue;
    covered += end - Math.max(start, reached);
    reached = end;
  }
  return covered / (to - from);
}
