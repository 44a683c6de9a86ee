/**
 * Collapsing queued requests (Buildbot's `collapseRequests`): when a worker
 * takes a request of a builder with `collapse: true`, every other queued
 * request of that builder with the same collapse key (same change source and
 * branch) is built by the same build, at the newest revision. Forced and try
 * requests have no key and are never collapsed, since their properties or
 * patch are their own.
 */
import type { BuildRequest } from '../domain.js';

/** Which requests one build serves: the one taken (`head`), the others merged into it, and whose properties it uses. */
export interface CollapsedGroup {
  head: BuildRequest;
  /** Other queued requests built together with the head (not including it). */
  merged: BuildRequest[];
  /** The newest request of the group: the build uses its properties (revision). */
  newest: BuildRequest;
}

/** The group a build of `head` serves, given the builder's `collapse` option and the rest of the queue. */
export function collapseGroup(head: BuildRequest, queued: readonly BuildRequest[], collapse: boolean): CollapsedGroup {
  if (!collapse || head.collapseKey === null) return { head, merged: [], newest: head };
  const merged = queued.filter((r) => r.id !== head.id && r.builder === head.builder && r.collapseKey === head.collapseKey);
  let newest = head;
  for (const r of merged) if (r.submittedAt > newest.submittedAt || (r.submittedAt === newest.submittedAt && r.id > newest.id)) newest = r;
  return { head, merged, newest };
}
