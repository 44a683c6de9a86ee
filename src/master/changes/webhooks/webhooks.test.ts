import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ShepherdError } from '../../errors.js';
import { parseGiteaPush, verifyGitea } from './gitea.js';
import { parseGithubPush, verifyGithub } from './github.js';
import { parseGitlabPush, verifyGitlab } from './gitlab.js';
import { normaliseRepository, oldestFirst, pushToChanges, sourcesForPush, type PushEvent } from './push.js';

const SECRET = 'It’s a Secret to Everybody';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const ZERO = '0'.repeat(40);

const hmac = (body: Buffer, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

function githubPayload(overrides: Record<string, unknown> = {}) {
  const commit = (id: string, message: string, time: string) => ({
    id,
    tree_id: 'f'.repeat(40),
    distinct: true,
    message,
    timestamp: time,
    url: `https://github.com/octo/proj/commit/${id}`,
    author: { name: 'Alice', email: 'alice@example.org', username: 'alice' },
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
    added: ['new.c'],
    removed: [],
    modified: ['README.md', 'new.c'],
  });
  return {
    ref: 'refs/heads/main',
    before: A,
    after: C,
    created: false,
    deleted: false,
    forced: false,
    repository: {
      id: 1,
      full_name: 'octo/proj',
      clone_url: 'https://github.com/octo/proj.git',
      git_url: 'git://github.com/octo/proj.git',
      ssh_url: 'git@github.com:octo/proj.git',
      html_url: 'https://github.com/octo/proj',
      owner: { login: 'octo' },
    },
    pusher: { name: 'alice' },
    commits: [commit(B, 'first', '2024-05-01T10:00:00+02:00'), commit(C, 'second\n\nbody', '2024-05-01T08:01:00Z')],
    ...overrides,
  };
}

describe('signatures', () => {
  const body = Buffer.from('{"zen":"Keep it logically awesome."}');

  it('GitHub: X-Hub-Signature-256 is sha256=HMAC of the raw body', () => {
    expect(verifyGithub(body, { 'x-hub-signature-256': `sha256=${hmac(body)}` }, SECRET)).toBe(true);
    expect(verifyGithub(body, { 'x-hub-signature-256': `sha256=${hmac(body).toUpperCase()}` }, SECRET)).toBe(true);
    expect(verifyGithub(body, { 'x-hub-signature-256': `sha256=${hmac(body, 'other')}` }, SECRET)).toBe(false);
    expect(verifyGithub(Buffer.from(`${body} `), { 'x-hub-signature-256': `sha256=${hmac(body)}` }, SECRET)).toBe(false);
    expect(verifyGithub(body, { 'x-hub-signature-256': hmac(body) }, SECRET)).toBe(false);
    expect(verifyGithub(body, { 'x-hub-signature-256': 'sha256=abc' }, SECRET)).toBe(false);
    expect(verifyGithub(body, {}, SECRET)).toBe(false);
    expect(verifyGithub(body, { 'x-hub-signature-256': `sha256=${hmac(body, '')}` }, '')).toBe(false);
  });

  it('Gitea: X-Gitea-Signature is the bare HMAC hex', () => {
    expect(verifyGitea(body, { 'x-gitea-signature': hmac(body) }, SECRET)).toBe(true);
    expect(verifyGitea(body, { 'x-gitea-signature': `sha256=${hmac(body)}` }, SECRET)).toBe(false);
    expect(verifyGitea(body, { 'x-gitea-signature': hmac(body, 'nope') }, SECRET)).toBe(false);
    expect(verifyGitea(body, {}, SECRET)).toBe(false);
  });

  it('GitLab: X-Gitlab-Token equals the token', () => {
    expect(verifyGitlab(body, { 'x-gitlab-token': SECRET }, SECRET)).toBe(true);
    expect(verifyGitlab(body, { 'x-gitlab-token': `${SECRET}x` }, SECRET)).toBe(false);
    expect(verifyGitlab(body, { 'x-gitlab-token': '' }, SECRET)).toBe(false);
    expect(verifyGitlab(body, {}, SECRET)).toBe(false);
  });
});

describe('parseGithubPush', () => {
  const headers = { 'x-github-event': 'push', 'x-github-delivery': 'd-1' };

  it('translates a push', () => {
    expect(parseGithubPush(githubPayload(), headers)).toEqual({
      provider: 'github',
      deliveryId: 'd-1',
      repositoryName: 'octo/proj',
      repositoryUrls: ['https://github.com/octo/proj.git', 'git://github.com/octo/proj.git', 'git@github.com:octo/proj.git', 'https://github.com/octo/proj'],
      branch: 'main',
      before: A,
      after: C,
      deleted: false,
      commits: [
        {
          revision: B,
          branch: 'main',
          author: 'Alice <alice@example.org>',
          committer: 'GitHub <noreply@github.com>',
          message: 'first',
          files: ['new.c', 'README.md'],
          when: Date.parse('2024-05-01T08:00:00Z'),
          via: 'github',
        },
        expect.objectContaining({ revision: C, message: 'second\n\nbody', when: Date.parse('2024-05-01T08:01:00Z') }),
      ],
    } satisfies PushEvent);
  });

  it('ignores pings, tags and other events', () => {
    expect(parseGithubPush({ zen: 'x', hook_id: 1 }, { 'x-github-event': 'ping' })).toEqual({ ignored: expect.stringContaining('ping') });
    expect(parseGithubPush(githubPayload({ ref: 'refs/tags/v1.0' }), headers)).toEqual({ ignored: 'refs/tags/v1.0 is not a branch' });
    expect(parseGithubPush({}, { 'x-github-event': 'issues' })).toEqual({ ignored: expect.stringContaining('issues') });
    expect(parseGithubPush({}, {})).toEqual({ ignored: expect.stringContaining('X-GitHub-Event') });
  });

  it('reads a branch deletion', () => {
    const push = parseGithubPush(githubPayload({ after: ZERO, deleted: true, commits: [] }), headers);
    expect(push).toMatchObject({ deleted: true, commits: [] });
  });

  it('refuses a malformed push naming the field', () => {
    const payload = githubPayload();
    const noName = { ...payload, repository: { clone_url: 'x' } };
    const error = (() => {
      try {
        parseGithubPush(noName, headers);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ShepherdError);
    expect(error).toMatchObject({ code: 'SHEPHERD_E_VALIDATION', details: { field: 'repository.full_name' } });
    expect((error as Error).message).toContain('repository.full_name');

    const badCommit = { ...payload, commits: [{ ...payload.commits[0], id: undefined }] };
    expect(() => parseGithubPush(badCommit, headers)).toThrow(expect.objectContaining({ details: { field: 'commits[0].id' } }));
    const badTime = { ...payload, commits: [{ ...payload.commits[0], timestamp: 'yesterday' }] };
    expect(() => parseGithubPush(badTime, headers)).toThrow(expect.objectContaining({ details: { field: 'commits[0].timestamp' } }));
    expect(() => parseGithubPush('not an object', headers)).toThrow(ShepherdError);
  });
});

describe('parseGitlabPush', () => {
  const payload = {
    object_kind: 'push',
    ref: 'refs/heads/dev',
    before: A,
    after: C,
    checkout_sha: C,
    project: {
      path_with_namespace: 'group/sub/proj',
      git_http_url: 'https://gitlab.example.org/group/sub/proj.git',
      git_ssh_url: 'git@gitlab.example.org:group/sub/proj.git',
      web_url: 'https://gitlab.example.org/group/sub/proj',
    },
    repository: { homepage: 'https://gitlab.example.org/group/sub/proj' },
    commits: [
      { id: B, message: 'one\n', timestamp: '2024-05-01T10:00:00+02:00', author: { name: 'Bo', email: 'bo@example.org' }, added: ['x'], modified: [], removed: ['y'] },
      { id: C, message: 'two\n', timestamp: '2024-05-01T10:01:00+02:00', author: { name: 'Bo', email: 'bo@example.org' }, added: [], modified: ['x'], removed: [] },
    ],
    total_commits_count: 2,
  };

  it('translates a Push Hook (the author stands in for the committer)', () => {
    const push = parseGitlabPush(payload, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'u-1' });
    expect(push).toMatchObject({
      provider: 'gitlab',
      deliveryId: 'u-1',
      repositoryName: 'group/sub/proj',
      repositoryUrls: [
        'https://gitlab.example.org/group/sub/proj.git',
        'git@gitlab.example.org:group/sub/proj.git',
        'https://gitlab.example.org/group/sub/proj',
      ],
      branch: 'dev',
      deleted: false,
      commits: [
        { revision: B, author: 'Bo <bo@example.org>', committer: 'Bo <bo@example.org>', message: 'one\n', files: ['x', 'y'], when: Date.parse('2024-05-01T08:00:00Z'), via: 'gitlab', branch: 'dev' },
        { revision: C, files: ['x'] },
      ],
    });
  });

  it('takes Idempotency-Key when there is no event UUID, and none at all means no dedupe', () => {
    expect(parseGitlabPush(payload, { 'x-gitlab-event': 'Push Hook', 'idempotency-key': 'k-1' })).toMatchObject({ deliveryId: 'k-1' });
    expect(parseGitlabPush(payload, { 'x-gitlab-event': 'Push Hook' })).toMatchObject({ deliveryId: null });
  });

  it('ignores tag pushes and other events', () => {
    expect(parseGitlabPush(payload, { 'x-gitlab-event': 'Tag Push Hook' })).toEqual({ ignored: expect.stringContaining('Tag Push Hook') });
    expect(parseGitlabPush({ ...payload, ref: 'refs/tags/v1' }, { 'x-gitlab-event': 'Push Hook' })).toEqual({ ignored: 'refs/tags/v1 is not a branch' });
  });

  it('refuses a push without its project', () => {
    const { project: _project, ...rest } = payload;
    expect(() => parseGitlabPush(rest, { 'x-gitlab-event': 'Push Hook' })).toThrow(expect.objectContaining({ details: { field: 'project' } }));
  });
});

describe('parseGiteaPush', () => {
  const commit = (id: string) => ({
    id,
    message: `commit ${id.slice(0, 1)}\n`,
    url: 'x',
    author: { name: 'Gi', email: 'gi@example.org', username: 'gi' },
    committer: { name: 'Gi', email: 'gi@example.org', username: 'gi' },
    timestamp: '2024-05-01T08:00:00Z',
    added: null,
    removed: null,
    modified: ['m'],
  });
  const payload = {
    ref: 'refs/heads/main',
    before: A,
    after: C,
    // Gitea lists the newest first.
    commits: [commit(C), commit(B)],
    head_commit: commit(C),
    repository: { full_name: 'team/proj', clone_url: 'https://gitea.example.org/team/proj.git', ssh_url: 'git@gitea.example.org:team/proj.git', html_url: 'https://gitea.example.org/team/proj' },
  };

  it('translates a push, oldest commit first, null file lists as empty', () => {
    const push = parseGiteaPush(payload, { 'x-gitea-event': 'push', 'x-gitea-delivery': 'g-1' });
    expect(push).toMatchObject({ provider: 'gitea', deliveryId: 'g-1', repositoryName: 'team/proj', branch: 'main', deleted: false });
    expect((push as PushEvent).commits.map((c) => [c.revision, c.files, c.via])).toEqual([
      [B, ['m'], 'gitea'],
      [C, ['m'], 'gitea'],
    ]);
  });

  it('ignores other events; a deletion has the null revision after', () => {
    expect(parseGiteaPush(payload, { 'x-gitea-event': 'create' })).toEqual({ ignored: expect.stringContaining('create') });
    expect(parseGiteaPush({ ...payload, after: ZERO, commits: null }, { 'x-gitea-event': 'push' })).toMatchObject({ deleted: true, commits: [] });
  });
});

describe('matching a push to change sources', () => {
  const config = parseConfig(
    {
      changes: [
        { name: 'by-name', git: 'https://mirror.example.org/x.git', repository: 'Octo/Proj', branches: ['main'], max_changes_per_push: 1 },
        { name: 'by-url', git: 'git@github.com:octo/proj', branches: ['main', '3.*'] },
        { name: 'other', git: 'https://github.com/octo/other.git' },
      ],
    },
    '/t/shepherd.yaml',
  );
  const push = parseGithubPush(githubPayload(), { 'x-github-event': 'push' }) as PushEvent;

  it('matches by full name or by any URL, ignoring case, a trailing .git or /', () => {
    expect(normaliseRepository('https://github.com/Octo/Proj.git/')).toBe('https://github.com/octo/proj');
    expect((sourcesForPush(push, config.changes) as { name: string }[]).map((s) => s.name)).toEqual(['by-name', 'by-url']);
    expect((sourcesForPush({ ...push, branch: '3.12' }, config.changes) as { name: string }[]).map((s) => s.name)).toEqual(['by-url']);
  });

  it('says why a push feeds no source', () => {
    expect(sourcesForPush({ ...push, repositoryName: 'x/y', repositoryUrls: [] }, config.changes)).toEqual({
      ignored: expect.stringMatching(/no change source follows repository x\/y/),
    });
    expect(sourcesForPush({ ...push, branch: 'feature' }, config.changes)).toEqual({
      ignored: 'branch feature is not followed by change source by-name, by-url (see its branches)',
    });
  });

  it('keeps the newest max_changes_per_push commits and sets the head (null when deleted)', () => {
    const [byName, byUrl] = config.changes;
    const one = pushToChanges(push, byName!);
    expect(one.changes.map((c) => [c.revision, c.source, c.repository])).toEqual([[C, 'by-name', 'https://mirror.example.org/x.git']]);
    expect(one.heads).toEqual({ main: C });
    expect(pushToChanges(push, byUrl!).changes).toHaveLength(2);
    expect(pushToChanges({ ...push, deleted: true, after: ZERO }, byUrl!)).toEqual({ changes: [], heads: { main: null } });
  });

  it('orders commits oldest first whatever the provider sent', () => {
    const commits = [{ revision: 'c' }, { revision: 'b' }, { revision: 'a' }];
    expect(oldestFirst(commits, 'c').map((c) => c.revision)).toEqual(['a', 'b', 'c']);
    expect(oldestFirst([...commits].reverse(), 'c').map((c) => c.revision)).toEqual(['a', 'b', 'c']);
    expect(oldestFirst(commits, 'zzz')).toEqual(commits);
  });
});
