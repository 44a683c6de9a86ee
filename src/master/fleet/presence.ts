/**
 * A worker's state as fleet stewardship sees it, from what is known of it
 * now: a pure function of the worker and an injected `now`.
 */
import type { Millis } from '../domain.js';
import { absenceCountsFrom, type Maintained } from './maintenance.js';
import type { FleetState, FleetWorker } from './types.js';

/**
 * The worker's state at `now`: paused wins over everything (its admin said
 * so); connected is building or idle; disconnected is offline until its
 * `missingAfter`, then missing, then orphaned once `orphanAfter` has passed
 * since the disconnection began. A worker never seen is offline: there is no
 * "since" to measure from. A maintenance window that opened before it became
 * missing keeps it offline, and its absence counts from the window's end.
 */
export function fleetState(worker: FleetWorker & Maintained, now: Millis, fleet: { orphanAfter: Millis }): FleetState {
  if (worker.paused) return 'paused';
  if (worker.connected) return worker.building ? 'building' : 'idle';
  if (worker.disconnectedAt === null) return 'offline';
  const gone = now - absenceSince(worker, now);
  if (gone >= orphanAfterOf(worker, fleet.orphanAfter)) return 'orphaned';
  if (gone >= worker.missingAfter) return 'missing';
  return 'offline';
}

/** When a worker counts as orphaned, measured from its disconnection: never before it is missing. */
export function orphanAfterOf(worker: Pick<FleetWorker, 'missingAfter'>, orphanAfter: Millis): Millis {
  return Math.max(orphanAfter, worker.missingAfter);
}

/** When the worker's current absence starts counting (see `absenceCountsFrom`); call only while disconnected. */
export function absenceSince(worker: Pick<FleetWorker, 'disconnectedAt' | 'missingAfter'> & Maintained, now: Millis): Millis {
  return absenceCountsFrom(worker.maintenance ?? [], worker.disconnectedAt ?? now, worker.missingAfter, now);
}
