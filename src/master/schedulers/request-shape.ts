/**
 * The one shape every scheduler's build requests take: the same properties
 * (revision, branch, repository, source, scheduler), collapse key, reason
 * and submitter rules for on_change, nightly, force and try, so steps and
 * checkouts read them the same way whoever queued the build.
 */
import type { ForceInput } from '../api/control.js';
import type { ChangeSourceConfig, SchedulerConfig } from '../config/schema.js';
import type { Change, Properties } from '../domain.js';

/** What triggers a scheduler. */
export type SchedulerKind = 'on_change' | 'force' | 'nightly' | 'try';

/** A scheduler's kind (the config guarantees exactly one trigger). */
export function schedulerKind(scheduler: SchedulerConfig): SchedulerKind {
  if (scheduler.on_change) return 'on_change';
  if (scheduler.nightly) return 'nightly';
  if (scheduler.try) return 'try';
  return 'force';
}

/** Everything a scheduler decided about one round of requests (one per builder). */
export interface RequestPlan {
  scheduler: SchedulerConfig;
  builders: readonly string[];
  /** The change source the build is of; undefined for a forced build (its checkout steps pick their own). */
  source: Pick<ChangeSourceConfig, 'name' | 'git'> | undefined;
  branch: string;
  /** Empty: the branch head when the checkout runs. */
  revision: string;
  /** The changes built, ascending. */
  changeIds: readonly number[];
  reason: string;
  submittedBy: string | null;
  /** Validated force parameters; they override every other property of the same name. */
  params?: Properties;
  patchId?: number | null;
}

/**
 * The requests to queue, one per builder. Builds of a branch of a source
 * (on_change, nightly) share a collapse key so a busy builder can build the
 * newest of them once; forced and try builds never collapse.
 */
export function requestInputs(plan: RequestPlan): ForceInput[] {
  const kind = schedulerKind(plan.scheduler);
  const properties: Properties = {
    ...plan.scheduler.properties,
    revision: plan.revision,
    branch: plan.branch,
    repository: plan.source?.git ?? '',
    source: plan.source?.name ?? '',
    scheduler: plan.scheduler.name,
    ...plan.params,
  };
  const collapseKey = (kind === 'on_change' || kind === 'nightly') && plan.source ? `${plan.source.name}\n${plan.branch}` : null;
  return plan.builders.map((builder) => ({
    builder,
    properties: { ...properties },
    reason: plan.reason,
    submittedBy: plan.submittedBy,
    ...(plan.scheduler.priority === undefined ? {} : { priority: plan.scheduler.priority }),
    scheduler: plan.scheduler.name,
    collapseKey,
    patchId: plan.patchId ?? null,
    changeIds: [...plan.changeIds],
  }));
}

/** `3 changes on main: Fix the parser` — the count and the newest change's subject. */
export function onChangeReason(changes: readonly Pick<Change, 'message'>[], branch: string): string {
  const newest = changes[changes.length - 1];
  const count = `${changes.length} change${changes.length === 1 ? '' : 's'} on ${branch}`;
  const subject = newest ? firstLine(newest.message) : '';
  return subject ? `${count}: ${subject}` : count;
}

/** `nightly (cron "0 3 * * *")`. */
export function nightlyReason(cron: string): string {
  return `nightly (cron "${cron}")`;
}

/** `try: <the comment's first line>`, else the patch's mail subject, else who sent it. */
export function tryReason(comment: string, patch: Buffer, author: string): string {
  const fromComment = firstLine(comment);
  if (fromComment) return `try: ${fromComment}`;
  // A `git format-patch` file names its commit in a Subject header.
  const subject = /^Subject: (?:\[PATCH[^\]]*\] )?(.+)$/m.exec(patch.subarray(0, 4096).toString('utf8'))?.[1];
  return `try: ${subject ? firstLine(subject) : `patch from ${author}`}`;
}

/** The first non-empty line of a text, cut to a readable length. */
export function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
