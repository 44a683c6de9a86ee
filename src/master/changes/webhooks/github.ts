/**
 * GitHub push webhooks: the `X-Hub-Signature-256` check and the `push`
 * payload, translated into a PushEvent.
 */
import { z } from 'zod';
import {
  commitTime, header, hmacMatches, isNullRevision, oldestFirst, parsePayload, person, touchedFiles,
  type HookHeaders, type IgnoredDelivery, type PushEvent,
} from './push.js';

/** Whether `X-Hub-Signature-256: sha256=HEX` is the HMAC-SHA256 of the raw body with the secret. */
export function verifyGithub(rawBody: Buffer, headers: HookHeaders, secret: string): boolean {
  const signature = header(headers, 'x-hub-signature-256');
  if (!signature?.startsWith('sha256=')) return false;
  return hmacMatches(rawBody, secret, signature.slice('sha256='.length));
}

const Person = z.object({ name: z.string(), email: z.string().nullish() });
const Paths = z.array(z.string()).nullish();

const GithubCommit = z.object({
  id: z.string().min(1),
  message: z.string(),
  timestamp: z.string(),
  author: Person,
  committer: Person,
  added: Paths,
  modified: Paths,
  removed: Paths,
});

/** The parts of GitHub's push payload Shepherd uses (unknown keys are dropped). */
export const GithubPushPayload = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().default(false),
  repository: z.object({
    full_name: z.string(),
    clone_url: z.string().nullish(),
    git_url: z.string().nullish(),
    ssh_url: z.string().nullish(),
    html_url: z.string().nullish(),
    svn_url: z.string().nullish(),
  }),
  commits: z.array(GithubCommit).nullish(),
});

/** Translates a GitHub delivery (`X-GitHub-Event`) into a push, or says why it is not one. Throws SHEPHERD_E_VALIDATION on a malformed push. */
export function parseGithubPush(body: unknown, headers: HookHeaders): PushEvent | IgnoredDelivery {
  const event = header(headers, 'x-github-event');
  if (event === 'ping') return { ignored: 'ping: the webhook is set up' };
  if (event !== 'push') return { ignored: `event ${event ?? '(no X-GitHub-Event header)'} is not handled; only push events are` };
  const payload = parsePayload(GithubPushPayload, body, 'GitHub push');
  if (!payload.ref.startsWith('refs/heads/')) return { ignored: `${payload.ref} is not a branch` };
  const repo = payload.repository;
  const branch = payload.ref.slice('refs/heads/'.length);
  // Non-distinct commits (already on another branch) are kept: the branch they
  // reach may be the only one followed, and the store keeps one change per branch and revision.
  const commits = (payload.commits ?? []).map((commit, i) => ({
    revision: commit.id,
    branch,
    author: person(commit.author),
    committer: person(commit.committer),
    message: commit.message,
    files: touchedFiles(commit),
    when: commitTime(commit.timestamp, `commits[${i}].timestamp`),
    via: 'github' as const,
  }));
  return {
    provider: 'github',
    deliveryId: header(headers, 'x-github-delivery') ?? null,
    repositoryName: repo.full_name,
    repositoryUrls: [repo.clone_url, repo.git_url, repo.ssh_url, repo.html_url, repo.svn_url].filter((url): url is string => !!url),
    branch,
    before: payload.before,
    after: payload.after,
    deleted: payload.deleted || isNullRevision(payload.after),
    commits: oldestFirst(commits, payload.after),
  };
}
