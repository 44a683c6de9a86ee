/**
 * Gitea (and Forgejo) push webhooks: the `X-Gitea-Signature` check and the
 * `push` payload, translated into a PushEvent.
 */
import { z } from 'zod';
import {
  commitTime, header, hmacMatches, isNullRevision, oldestFirst, parsePayload, person, touchedFiles,
  type HookHeaders, type IgnoredDelivery, type PushEvent,
} from './push.js';

/** Whether `X-Gitea-Signature: HEX` is the HMAC-SHA256 of the raw body with the secret. */
export function verifyGitea(rawBody: Buffer, headers: HookHeaders, secret: string): boolean {
  return hmacMatches(rawBody, secret, header(headers, 'x-gitea-signature'));
}

const Person = z.object({ name: z.string(), email: z.string().nullish() });
// Gitea is written in Go: an empty list may arrive as null.
const Paths = z.array(z.string()).nullish();

const GiteaCommit = z.object({
  id: z.string().min(1),
  message: z.string(),
  timestamp: z.string(),
  author: Person,
  committer: Person,
  added: Paths,
  modified: Paths,
  removed: Paths,
});

/** The parts of Gitea's push payload Shepherd uses (unknown keys are dropped). */
export const GiteaPushPayload = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  repository: z.object({
    full_name: z.string(),
    clone_url: z.string().nullish(),
    ssh_url: z.string().nullish(),
    html_url: z.string().nullish(),
  }),
  commits: z.array(GiteaCommit).nullish(),
});

/** Translates a Gitea delivery (`X-Gitea-Event`) into a push, or says why it is not one. Throws SHEPHERD_E_VALIDATION on a malformed push. */
export function parseGiteaPush(body: unknown, headers: HookHeaders): PushEvent | IgnoredDelivery {
  const event = header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event') ?? header(headers, 'x-gogs-event');
  if (event !== 'push') return { ignored: `event ${event ?? '(no X-Gitea-Event header)'} is not handled; only push events are` };
  const payload = parsePayload(GiteaPushPayload, body, 'Gitea push');
  if (!payload.ref.startsWith('refs/heads/')) return { ignored: `${payload.ref} is not a branch` };
  const branch = payload.ref.slice('refs/heads/'.length);
  const repo = payload.repository;
  const commits = (payload.commits ?? []).map((commit, i) => ({
    revision: commit.id,
    branch,
    author: person(commit.author),
    committer: person(commit.committer),
    message: commit.message,
    files: touchedFiles(commit),
    when: commitTime(commit.timestamp, `commits[${i}].timestamp`),
    via: 'gitea' as const,
  }));
  return {
    provider: 'gitea',
    deliveryId: header(headers, 'x-gitea-delivery') ?? header(headers, 'x-forgejo-delivery') ?? null,
    repositoryName: repo.full_name,
    repositoryUrls: [repo.clone_url, repo.ssh_url, repo.html_url].filter((url): url is string => !!url),
    branch,
    before: payload.before,
    after: payload.after,
    deleted: isNullRevision(payload.after),
    commits: oldestFirst(commits, payload.after),
  };
}
