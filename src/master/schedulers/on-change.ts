/**
 * The decisions of an `on_change` scheduler, as pure functions over plain
 * data: which changes it follows, which of them are important (touch a file
 * that counts), and how changes are batched per (source, branch) until the
 * quiet period after the last one ends.
 *
 * Like Buildbot's `onlyImportant=false`: an unimportant change (say a
 * Doc-only commit) never starts a quiet period by itself, but it stays in its
 * batch and is built with the next important change of that branch; while a
 * quiet period is running, any change (important or not) restarts it.
 */
import { z } from 'zod';
import { branchMatcher, pathMatcher } from '../changes/patterns.js';
import type { SchedulerConfig } from '../config/schema.js';
import type { Change, Millis } from '../domain.js';

/** An on_change trigger as configured (defaults applied). */
export type OnChangeConfig = NonNullable<SchedulerConfig['on_change']>;

/** The two questions asked of every new change. */
export interface ChangeFilter {
  /** The scheduler watches this change's source and branch. */
  follows(change: Pick<Change, 'source' | 'branch'>): boolean;
  /** The change touches a file that counts (or lists no files at all). */
  important(change: Pick<Change, 'files'>): boolean;
}

/** Compiles a trigger's source list, branch patterns and file globs once. */
export function changeFilter(trigger: OnChangeConfig): ChangeFilter {
  const sources = trigger.changes === undefined ? undefined : new Set([trigger.changes].flat());
  const branch = trigger.branches === undefined ? () => true : branchMatcher(trigger.branches);
  const wanted = trigger.files === undefined ? () => true : pathMatcher(trigger.files);
  const ignored = pathMatcher(trigger.ignore);
  return {
    follows: (change) => (sources === undefined || sources.has(change.source)) && branch(change.branch),
    // A commit without a file list (a webhook that did not say) cannot be
    // proven unimportant, so it is built rather than silently skipped.
    important: (change) => change.files.length === 0 || change.files.some((file) => wanted(file) && !ignored(file)),
  };
}

/** The changes of one (source, branch) waiting to be queued together. */
export interface ChangeBatch {
  source: string;
  branch: string;
  /** Every change of the batch, important or not, ascending. */
  changeIds: number[];
  /** At least one change is important: only such a batch is ever queued. */
  important: boolean;
  /** When the last change that (re)started the quiet period arrived; null while the batch has no important change. */
  quietSince: Millis | null;
}

/**
 * A batch of only unimportant changes is kept (to be built with the next
 * important change) but capped, so a branch that only ever sees Doc commits
 * does not grow its saved state without bound; the oldest ids go first.
 */
export const MAX_BATCH_CHANGES = 500;

/** Adds a change to its batch; returns the new batches and that batch's deadline (null: waits for an important change). */
export function addChange(
  batches: readonly ChangeBatch[],
  change: Pick<Change, 'id' | 'source' | 'branch'>,
  important: boolean,
  now: Millis,
  quietMs: Millis,
): { batches: ChangeBatch[]; deadline: Millis | null } {
  const index = batches.findIndex((b) => b.source === change.source && b.branch === change.branch);
  const old = batches[index];
  const ids = old ? [...new Set([...old.changeIds, change.id])].sort((a, b) => a - b) : [change.id];
  const batch: ChangeBatch = {
    source: change.source,
    branch: change.branch,
    changeIds: ids.slice(-MAX_BATCH_CHANGES),
    important: important || (old?.important ?? false),
    // An unimportant change only extends a quiet period already running.
    quietSince: important || old?.quietSince != null ? now : null,
  };
  const next = old ? batches.map((b, i) => (i === index ? batch : b)) : [...batches, batch];
  return { batches: next, deadline: batchDeadline(batch, quietMs) };
}

/** When a batch is due: the end of the quiet period after its last change, or null while nothing in it is important. */
export function batchDeadline(batch: ChangeBatch, quietMs: Millis): Millis | null {
  return batch.important && batch.quietSince !== null ? batch.quietSince + quietMs : null;
}

/** Splits batches into those to queue now and those still waiting. */
export function takeDue(
  batches: readonly ChangeBatch[],
  now: Millis,
  quietMs: Millis,
): { due: ChangeBatch[]; pending: ChangeBatch[] } {
  const due: ChangeBatch[] = [];
  const pending: ChangeBatch[] = [];
  for (const batch of batches) {
    const deadline = batchDeadline(batch, quietMs);
    (deadline !== null && deadline <= now ? due : pending).push(batch);
  }
  return { due, pending };
}

/** The earliest deadline among the batches (to arm one timer), or null when none is waiting for a deadline. */
export function nextDeadline(batches: readonly ChangeBatch[], quietMs: Millis): Millis | null {
  let earliest: Millis | null = null;
  for (const batch of batches) {
    const deadline = batchDeadline(batch, quietMs);
    if (deadline !== null && (earliest === null || deadline < earliest)) earliest = deadline;
  }
  return earliest;
}

/**
 * Merges batches restored from the store with ones collected since start-up
 * (changes that arrived while the state was being read): one batch per
 * (source, branch), ids united, the later quiet period kept.
 */
export function mergeBatches(restored: readonly ChangeBatch[], current: readonly ChangeBatch[]): ChangeBatch[] {
  const out = [...restored];
  for (const batch of current) {
    const index = out.findIndex((b) => b.source === batch.source && b.branch === batch.branch);
    const old = out[index];
    if (!old) {
      out.push(batch);
      continue;
    }
    out[index] = {
      source: batch.source,
      branch: batch.branch,
      changeIds: [...new Set([...old.changeIds, ...batch.changeIds])].sort((a, b) => a - b).slice(-MAX_BATCH_CHANGES),
      important: old.important || batch.important,
      quietSince: old.quietSince === null ? batch.quietSince : batch.quietSince === null ? old.quietSince : Math.max(old.quietSince, batch.quietSince),
    };
  }
  return out;
}

const SavedBatches = z.object({
  batches: z.array(
    z.object({
      source: z.string(),
      branch: z.string(),
      changeIds: z.array(z.number().int()),
      important: z.boolean(),
      quietSince: z.number().nullable(),
    }),
  ),
});

/** The scheduler state to save for pending batches. */
export function batchesToState(batches: readonly ChangeBatch[]): Record<string, unknown> {
  return { batches: batches.map((b) => ({ ...b, changeIds: [...b.changeIds] })) };
}

/** Reads saved batches back; state of another shape (an older version, another kind of scheduler) reads as none. */
export function batchesFromState(state: Record<string, unknown> | undefined): ChangeBatch[] {
  const parsed = SavedBatches.safeParse(state);
  return parsed.success ? parsed.data.batches : [];
}
