/**
 * GitHub commit statuses: pending when a build starts, its result when it
 * ends. The decisions (which state, which commit, which context) are pure;
 * `postGithubStatus` is the thin HTTP shell.
 */
import type { Build, Result } from '../domain.js';
import type { NotifierConfig } from '../config/schema.js';
import { postJson } from './http.js';

/** A commit status state, as GitHub names them. */
export type GithubState = 'pending' | 'success' | 'failure' | 'error';

/** The `github_status` settings of a notifier, as validated. */
export type GithubStatusConfig = NonNullable<NotifierConfig['github_status']>;

/** The status a build's end sets; null leaves the commit as it is (a RETRY stays pending: another build follows). */
export function finishedState(result: Result | null): GithubState | null {
  switch (result) {
    case 'SUCCESS':
    case 'WARNINGS':
      return 'success';
    case 'FAILURE':
      return 'failure';
    case 'EXCEPTION':
    case 'CANCELLED':
      return 'error';
    default:
      return null;
  }
}

/** The commit a status belongs on: the revision checked out, else the one asked for; null when the build names none. */
export function statusSha(build: Pick<Build, 'properties'>): string | null {
  return build.properties.got_revision || build.properties.revision || null;
}

/** The status context, `${builder}` replaced. */
export function statusContext(config: Pick<GithubStatusConfig, 'context'>, builder: string): string {
  return config.context.replace(/\$\{builder\}/g, builder);
}

const DESCRIPTION: Record<GithubState, string> = {
  pending: 'running',
  success: 'passed',
  failure: 'failed',
  error: 'ended with an error',
};

/** The request body GitHub's "create a commit status" endpoint takes. */
export interface GithubStatusBody {
  state: GithubState;
  target_url: string;
  description: string;
  context: string;
}

/** The URL and body of one status update (GitHub caps descriptions at 140 characters). */
export function statusRequest(
  config: GithubStatusConfig,
  build: Pick<Build, 'builder' | 'number' | 'result' | 'properties'>,
  sha: string,
  state: GithubState,
  targetUrl: string,
): { url: string; body: GithubStatusBody } {
  const [owner, repo] = config.repository.split('/') as [string, string];
  const base = config.api_url.replace(/\/+$/, '');
  const cancelled = build.result === 'CANCELLED' ? 'was cancelled' : null;
  const description = `#${build.number} ${cancelled ?? DESCRIPTION[state]}`.slice(0, 140);
  return {
    url: `${base}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${encodeURIComponent(sha)}`,
    body: { state, target_url: targetUrl, description, context: statusContext(config, build.builder) },
  };
}

/** Sends one status update; rejects on a network error or a non-2xx answer. */
export async function postGithubStatus(
  request: { url: string; body: GithubStatusBody },
  token: string,
  signal?: AbortSignal,
): Promise<void> {
  await postJson(request.url, JSON.stringify(request.body), {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
    },
    signal,
  });
}
