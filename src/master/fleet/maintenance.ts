/**
 * Maintenance windows: times an admin declared a worker may be away (a
 * five-field cron in UTC for when a window opens, and how long it lasts).
 * A disconnected worker in a window raises no alert, and its absence is
 * counted again only from the window's end. Pure: croner computes fire
 * times, `now` is injected.
 */
import { Cron } from 'croner';
import type { Millis } from '../domain.js';

/** One declared window: opens at each fire time of `cron` (UTC), lasts `duration` ms. */
export interface MaintenanceWindow {
  cron: string;
  duration: Millis;
}

function compile(cron: string): Cron {
  return new Cron(cron, { timezone: 'UTC', paused: true, mode: '5-part' });
}

/** The latest fire time at or before `at` (null: none), so a window opening exactly at `at` counts. */
function lastOpening(window: MaintenanceWindow, at: Millis): Millis | null {
  // previousRuns looks strictly before its reference, to the second: ask from the next second.
  const reference = new Date(Math.floor(at / 1000) * 1000 + 1000);
  const run = compile(window.cron).previousRuns(1, reference)[0];
  return run === undefined ? null : run.getTime();
}

/**
 * When the most recent opening of any window at or before `now` ends (null:
 * none ever opened). Later than `now` while a window is open.
 */
export function lastMaintenanceEnd(windows: readonly MaintenanceWindow[], now: Millis): Millis | null {
  let end: Millis | null = null;
  for (const window of windows) {
    if (window.duration <= 0) continue;
    const opened = lastOpening(window, now);
    if (opened !== null) end = Math.max(end ?? -Infinity, opened + window.duration);
  }
  return end;
}

/** Whether a window is open at `now`: the latest opening at or before it is less than `duration` ago. */
export function inMaintenance(windows: readonly MaintenanceWindow[], now: Millis): boolean {
  return maintenanceEndsAt(windows, now) !== null;
}

/** When the window open at `now` ends (the latest end if several overlap); null when none is open. */
export function maintenanceEndsAt(windows: readonly MaintenanceWindow[], now: Millis): Millis | null {
  const end = lastMaintenanceEnd(windows, now);
  return end !== null && end > now ? end : null;
}

/** The next opening of any window strictly after `now` (null: none), for the fleet's timer. */
export function nextMaintenanceAt(windows: readonly MaintenanceWindow[], now: Millis): Millis | null {
  let next: Millis | null = null;
  for (const window of windows) {
    if (window.duration <= 0) continue;
    const run = compile(window.cron).nextRun(new Date(now))?.getTime();
    if (run !== undefined) next = Math.min(next ?? Infinity, run);
  }
  return next;
}

/** What the fleet knows of a worker's maintenance windows (none: always counted). */
export interface Maintained {
  maintenance?: readonly MaintenanceWindow[];
}

// Back-to-back windows are followed one by one; past this many the worker counts as always in maintenance.
const MAX_CHAINED_WINDOWS = 1000;

/**
 * From when a disconnection that began at `disconnectedAt` counts towards
 * missing and orphaned at `now`: its start, or the end of a window that
 * opened before the worker became missing (in the future while that window
 * is open), followed through windows that open before the restarted count
 * reaches `missingAfter`. A window opening once the worker is already
 * missing changes nothing: its admins were told, and a weekly window must
 * not keep a worker from ever being orphaned.
 */
export function absenceCountsFrom(windows: readonly MaintenanceWindow[], disconnectedAt: Millis, missingAfter: Millis, now: Millis): Millis {
  if (windows.length === 0) return disconnectedAt;
  let from = disconnectedAt;
  for (let i = 0; i < MAX_CHAINED_WINDOWS; i++) {
    const end = lastMaintenanceEnd(windows, Math.min(now, from + missingAfter));
    if (end === null || end <= from) return from;
    from = end;
  }
  return Math.max(from, now + 1);
}
