/**
 * GitLab push webhooks: the `X-Gitlab-Token` check and the `Push Hook`
 * payload, translated into a PushEvent.
 */
import { z } from 'zod';
import {
  commitTime, header, isNullRevision, oldestFirst, parsePayload, person, secretsEqual, touchedFiles,
  type HookHeaders, type IgnoredDelivery, type PushEvent,
} from './push.js';

/** Whether `X-Gitlab-Token` equals the configured token (GitLab sends the token itself, not a signature). */
export function verifyGitlab(_rawBody: Buffer, headers: HookHeaders, secret: string): boolean {
  const token = header(headers, 'x-gitlab-token');
  return token !== undefined && secretsEqual(token, secret);
}

const Paths = z.array(z.string()).nullish();

const GitlabCommit = z.object({
  id: z.string().min(1),
  message: z.string(),
  timestamp: z.string(),
  author: z.object({ name: z.string(), email: z.string().nullish() }),
  added: Paths,
  modified: Paths,
  removed: Paths,
});

const Url = z.string().nullish();

/** The parts of GitLab's push payload Shepherd uses (unknown keys are dropped). */
export const GitlabPushPayload = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  project: z.object({
    path_with_namespace: z.string(),
    git_http_url: Url,
    git_ssh_url: Url,
    web_url: Url,
    http_url: Url,
    ssh_url: Url,
  }),
  repository: z.object({ git_http_url: Url, git_ssh_url: Url, homepage: Url, url: Url }).nullish(),
  commits: z.array(GitlabCommit).nullish(),
});

/** Translates a GitLab delivery (`X-Gitlab-Event`) into a push, or says why it is not one. Throws SHEPHERD_E_VALIDATION on a malformed push. */
export function parseGitlabPush(body: unknown, headers: HookHeaders): PushEvent | IgnoredDelivery {
  const event = header(headers, 'x-gitlab-event');
  if (event !== 'Push Hook') return { ignored: `event ${event ?? '(no X-Gitlab-Event header)'} is not handled; only Push Hook events are` };
  const payload = parsePayload(GitlabPushPayload, body, 'GitLab push');
  if (!payload.ref.startsWith('refs/heads/')) return { ignored: `${payload.ref} is not a branch` };
  const branch = payload.ref.slice('refs/heads/'.length);
  const { project, repository } = payload;
  // GitLab's payload has no committer: the author stands in.
  const commits = (payload.commits ?? []).map((commit, i) => ({
    revision: commit.id,
    branch,
    author: person(commit.author),
    committer: person(commit.author),
    message: commit.message,
    files: touchedFiles(commit),
    when: commitTime(commit.timestamp, `commits[${i}].timestamp`),
    via: 'gitlab' as const,
  }));
  const urls = [
    project.git_http_url, project.git_ssh_url, project.web_url, project.http_url, project.ssh_url,
    repository?.git_http_url, repository?.git_ssh_url, repository?.homepage, repository?.url,
  ];
  return {
    provider: 'gitlab',
    deliveryId: header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'idempotency-key') ?? null,
    repositoryName: project.path_with_namespace,
    repositoryUrls: [...new Set(urls.filter((url): url is string => !!url))],
    branch,
    before: payload.before,
    after: payload.after,
    deleted: isNullRevision(payload.after),
    commits: oldestFirst(commits, payload.after),
  };
}
