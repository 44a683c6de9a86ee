/**
 * How the applications page orders what the API returns (newest first):
 * pending offers first and the oldest of them first, since it has waited
 * longest; decided ones below, most recently decided first.
 */
import type { ApplicationJson } from '../api/client.js';

/** Pending (oldest first) and decided (latest decision first). */
export function splitApplications(applications: readonly ApplicationJson[]): { pending: ApplicationJson[]; decided: ApplicationJson[] } {
  const pending = applications.filter((a) => a.state === 'pending').sort((a, b) => a.submitted_at - b.submitted_at || a.id - b.id);
  const decided = applications.filter((a) => a.state !== 'pending').sort((a, b) => (b.decided_at ?? 0) - (a.decided_at ?? 0) || b.id - a.id);
  return { pending, decided };
}

/** How many wait for a decision (the count next to the nav link). */
export function pendingCount(applications: readonly ApplicationJson[] | undefined): number {
  return applications?.filter((a) => a.state === 'pending').length ?? 0;
}
