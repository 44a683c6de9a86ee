/**
 * A push, as every webhook provider reports it once parsed, and the pure
 * decisions around it: which change source it feeds, which changes and heads
 * it yields. The providers' files only translate their payloads into this.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { ChangeSourceConfig } from '../../config/schema.js';
import { formatPath } from '../../config/load.js';
import type { NewChange } from '../../domain.js';
import { ShepherdError } from '../../errors.js';
import { branchMatcher } from '../patterns.js';

/** The webhook providers Shepherd accepts pushes from. */
export type HookProvider = 'github' | 'gitlab' | 'gitea';

/** A commit as a push payload describes it; the source and repository come from the matching change source. */
export type PushCommit = Omit<NewChange, 'source' | 'repository'>;

/** One push to one branch, whichever provider sent it. */
export interface PushEvent {
  provider: HookProvider;
  /** The provider's id of this delivery (the same on a redelivery); null when it sent none. */
  deliveryId: string | null;
  /** "owner/name" (GitLab: the project's path with namespace). */
  repositoryName: string;
  /** Every URL the payload gives for the repository (clone, ssh, web...). */
  repositoryUrls: string[];
  branch: string;
  before: string;
  after: string;
  /** The branch was deleted (no commits; its head is removed). */
  deleted: boolean;
  /** The pushed commits, oldest first. */
  commits: PushCommit[];
}

/** A delivery that is valid but not a branch push (ping, tag push, another event); answered without error. */
export interface IgnoredDelivery {
  ignored: string;
}

/** HTTP request headers as Node gives them (lower-case names). */
export type HookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** One header's value (the first, if repeated). */
export function header(headers: HookHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The revision git reports for "no commit": a created branch's `before`, a deleted one's `after`. */
export function isNullRevision(revision: string): boolean {
  return /^0+$/.test(revision);
}

export { secretsEqual } from '../../secrets.js';

/** Parses a payload with a provider's zod schema; a mismatch is SHEPHERD_E_VALIDATION naming the field. */
export function parsePayload<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = formatPath(issue.path);
  throw new ShepherdError('SHEPHERD_E_VALIDATION', `${what} payload: ${field}: ${issue.message}`, {
    cause: parsed.error,
    details: { field },
  });
}

/** Parses an ISO 8601 commit timestamp into epoch ms. */
export function commitTime(timestamp: string, field: string): number {
  const when = Date.parse(timestamp);
  if (Number.isNaN(when)) {
    throw new ShepherdError('SHEPHERD_E_VALIDATION', `${field}: expected an ISO 8601 time, got "${timestamp}"`, { details: { field } });
  }
  return when;
}

/** "Name <mail>", as changes carry people. */
export function person(who: { name: string; email?: string | null | undefined }): string {
  return who.email ? `${who.name} <${who.email}>` : who.name;
}

/** Files a commit touched, from the payload's three lists (a path in several is listed once). */
export function touchedFiles(commit: { added?: string[] | null | undefined; modified?: string[] | null | undefined; removed?: string[] | null | undefined }): string[] {
  return [...new Set([...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])])];
}

/** A repository URL or name as compared: no trailing `/` or `.git`, case ignored (hosts and the big forges ignore it). */
export function normaliseRepository(text: string): string {
  return text.trim().replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '').toLowerCase();
}

/** Whether a push is to this source's repository: its full name equals `repository`, or one of its URLs equals `git`. */
export function pushIsForSource(push: PushEvent, source: ChangeSourceConfig): boolean {
  if (source.repository !== undefined && normaliseRepository(source.repository) === normaliseRepository(push.repositoryName)) {
    return true;
  }
  const git = normaliseRepository(source.git);
  return push.repositoryUrls.some((url) => normaliseRepository(url) === git);
}

/** The change sources a push feeds, or why it feeds none. */
export function sourcesForPush(push: PushEvent, sources: readonly ChangeSourceConfig[]): ChangeSourceConfig[] | IgnoredDelivery {
  const forRepository = sources.filter((source) => pushIsForSource(push, source));
  if (forRepository.length === 0) {
    return {
      ignored: `no change source follows repository ${push.repositoryName}; set changes[].repository to "${push.repositoryName}" or changes[].git to one of its URLs`,
    };
  }
  const following = forRepository.filter((source) => branchMatcher(source.branches)(push.branch));
  if (following.length === 0) {
    return {
      ignored: `branch ${push.branch} is not followed by change source ${forRepository.map((s) => s.name).join(', ')} (see its branches)`,
    };
  }
  return following;
}

/** The changes (the newest `max_changes_per_push` commits) and head a push gives a source. */
export function pushToChanges(push: PushEvent, source: ChangeSourceConfig): { changes: NewChange[]; heads: Record<string, string | null> } {
  const commits = push.deleted ? [] : push.commits.slice(-source.max_changes_per_push);
  return {
    changes: commits.map((commit) => ({ ...commit, source: source.name, repository: source.git })),
    heads: { [push.branch]: push.deleted ? null : push.after },
  };
}

/**
 * Puts a payload's commits oldest first. Providers differ (GitHub and GitLab
 * send oldest first, Gitea newest first); the pushed head is the newest, so
 * a list that starts with it is reversed.
 */
export function oldestFirst<T extends { revision: string }>(commits: T[], after: string): T[] {
  if (commits.length > 1 && commits[0]!.revision === after && commits.at(-1)!.revision !== after) return [...commits].reverse();
  return commits;
}

/** Verifies an HMAC-SHA256 hex signature of the raw body, in constant time. */
export function hmacMatches(rawBody: Buffer, secret: string, givenHex: string | undefined): boolean {
  if (!givenHex || secret === '') return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'), 'utf8');
  const given = Buffer.from(givenHex.trim().toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
