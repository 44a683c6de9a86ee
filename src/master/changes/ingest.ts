/**
 * The one way new changes enter the master: the poller and the push webhooks
 * both come through here, so a commit seen by both is one change, announced
 * once.
 */
import type { Clock } from '../clock.js';
import type { Change, NewChange } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';

/** What ingesting needs. */
export interface IngestDeps {
  store: Store;
  events: MasterEventBus;
  clock: Clock;
}

/**
 * Stores a source's new changes and branch heads (null: the branch is gone)
 * and emits `change:new` for each change the store did not have yet, oldest
 * first. Returns those changes.
 */
export async function ingestChanges(
  deps: IngestDeps,
  source: string,
  changes: NewChange[],
  heads: Record<string, string | null>,
): Promise<Change[]> {
  const added = await deps.store.recordChanges(source, changes, heads, deps.clock.now());
  for (const change of added) deps.events.emit('change:new', { change });
  return added;
}
