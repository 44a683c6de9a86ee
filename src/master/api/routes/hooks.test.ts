import { createHmac, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../../test/helpers/databases.js';
import { readCommits } from '../../changes/commits.js';
import { GitPoller } from '../../changes/git-poller.js';
import { TestRepo } from '../../changes/test-repo.js';
import { ManualClock } from '../../clock.js';
import { parseConfig, readSecrets } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { Change } from '../../domain.js';
import { MasterEventBus } from '../../events.js';
import type { Store } from '../../store/store.js';
import { installErrorReplies } from '../error-replies.js';
import { registerHookRoutes } from './hooks.js';

const ENV = { GH_SECRET: 'gh-secret', GL_TOKEN: 'gl-token', GT_SECRET: 'gt-secret' };

let repo: TestRepo;
let store: Store;
let clock: ManualClock;
let events: MasterEventBus;
let emitted: Change[];
let apps: FastifyInstance[];

beforeEach(async () => {
  repo = await TestRepo.create();
  store = await openTestStore('sqlite');
  clock = new ManualClock();
  events = new MasterEventBus((_event, error) => {
    throw error;
  });
  emitted = [];
  events.on('change:new', ({ change }) => emitted.push(change));
  apps = [];
});

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await store.close();
  await repo.remove();
});

function makeConfig(hooks: Record<string, unknown>): Readonly<Config> {
  return parseConfig(
    {
      changes: [
        { name: 'proj', git: repo.origin, repository: 'octo/proj', branches: ['main', '3.*'] },
        { name: 'unrelated', git: 'https://example.org/other.git' },
      ],
      hooks,
    },
    '/t/shepherd.yaml',
  );
}

const ALL_HOOKS = { github: { secret_env: 'GH_SECRET' }, gitlab: { token_env: 'GL_TOKEN' }, gitea: { secret_env: 'GT_SECRET' } };

/** Starts a real server on 127.0.0.1 with the hook routes; returns its base URL. */
async function start(hooks: Record<string, unknown> = ALL_HOOKS): Promise<string> {
  const config = makeConfig(hooks);
  const app = Fastify({ logger: false });
  apps.push(app);
  installErrorReplies(app);
  await registerHookRoutes(app, { config, secrets: readSecrets(config, ENV), store, events, clock, logger: pino({ level: 'silent' }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const sign = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

/** The commits as the forges describe them, read from the real repository. */
async function payloadCommits(revisions: string[]) {
  const infos = await readCommits(repo.origin, revisions);
  return Promise.all(
    infos.map(async (info) => {
      const status = await repo.git('diff-tree', '-r', '--root', '--no-commit-id', '--no-renames', '--name-status', info.revision);
      const files = (kind: string) => status.split('\n').filter((l) => l.startsWith(kind)).map((l) => l.split('\t')[1]!);
      const who = (text: string) => {
        const [, name, email] = /^(.*) <(.*)>$/.exec(text)!;
        return { name: name!, email: email!, username: name!.split(' ')[0]!.toLowerCase() };
      };
      return {
        id: info.revision,
        tree_id: '0'.repeat(40),
        distinct: true,
        message: info.message,
        timestamp: new Date(info.when).toISOString(),
        url: `https://github.com/octo/proj/commit/${info.revision}`,
        author: who(info.author),
        committer: who(info.committer),
        added: files('A'),
        removed: files('D'),
        modified: files('M'),
      };
    }),
  );
}

async function githubPush(branch: string, before: string, after: string, revisions: string[]) {
  return JSON.stringify({
    ref: `refs/heads/${branch}`,
    before,
    after,
    created: false,
    deleted: /^0+$/.test(after),
    forced: false,
    repository: {
      full_name: 'octo/proj',
      clone_url: 'https://github.com/octo/proj.git',
      ssh_url: 'git@github.com:octo/proj.git',
      html_url: 'https://github.com/octo/proj',
    },
    commits: await payloadCommits(revisions),
    sender: { login: 'alice' },
  });
}

function postGithub(base: string, body: string, options: { event?: string; delivery?: string; secret?: string; contentType?: string } = {}) {
  return fetch(`${base}/hooks/github`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'x-github-event': options.event ?? 'push',
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-hub-signature-256': `sha256=${sign(body, options.secret ?? ENV.GH_SECRET)}`,
    },
    body,
  });
}

/** A base commit everyone knows, then two new commits pushed on main. */
async function twoNewCommits() {
  const base = await repo.commit('base', { 'a.c': 'a\n', 'old.txt': 'x\n' });
  await repo.push();
  await store.recordChanges('proj', [], { main: base }, clock.now());
  const one = await repo.commit('Add b.c\n\nBecause we need it.', { 'b.c': 'b\n' }, { author: 'Alice Author <alice@example.org>' });
  const two = await repo.commit('Edit a, drop old', { 'a.c': 'a2\n', 'old.txt': null });
  await repo.push();
  return { base, one, two };
}

describe('POST /hooks/github', () => {
  it('stores a signed push as changes, announces them, and a poller then finds nothing new', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const response = await postGithub(base, await githubPush('main', before, two, [one, two]));
    expect(response.status).toBe(202);
    const { changes: ids } = (await response.json()) as { changes: number[] };
    expect(ids).toHaveLength(2);
    expect(emitted.map((c) => [c.id, c.revision, c.via])).toEqual([
      [ids[0], one, 'github'],
      [ids[1], two, 'github'],
    ]);
    expect(emitted[0]).toMatchObject({
      source: 'proj',
      repository: repo.origin,
      branch: 'main',
      author: 'Alice Author <alice@example.org>',
      message: 'Add b.c\n\nBecause we need it.',
      files: ['b.c'],
    });
    expect(emitted[1]!.files.sort()).toEqual(['a.c', 'old.txt']);
    expect(await store.getHeads('proj')).toEqual({ main: two });

    // The same commits seen by the poller are the same changes: nothing new.
    const poller = new GitPoller({
      source: makeConfig({}).changes[0]!,
      mirrorDir: join(repo.dir, 'mirror.git'),
      store,
      events,
      clock,
      logger: pino({ level: 'silent' }),
    });
    expect(await poller.pollOnce()).toEqual([]);
    expect(emitted).toHaveLength(2);
  });

  it('refuses a wrong or missing signature with 401 and stores nothing, then accepts the genuine delivery', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const body = await githubPush('main', before, two, [one, two]);
    const wrong = await postGithub(base, body, { delivery: 'd-1', secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { code: 'SHEPHERD_E_HOOK_SIGNATURE', message: expect.stringContaining('GH_SECRET') } });
    const unsigned = await fetch(`${base}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, body });
    expect(unsigned.status).toBe(401);
    expect(await store.listChanges({ limit: 10 })).toEqual([]);
    expect(emitted).toEqual([]);

    // The delivery id was not burnt by the forged attempt.
    expect((await postGithub(base, body, { delivery: 'd-1' })).status).toBe(202);
    expect(emitted).toHaveLength(2);
  });

  it('answers a redelivery as a duplicate and queues nothing', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const body = await githubPush('main', before, two, [one, two]);
    expect((await postGithub(base, body, { delivery: 'same' })).status).toBe(202);
    const again = await postGithub(base, body, { delivery: 'same' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true });
    expect(emitted).toHaveLength(2);
    expect(await store.listChanges({ limit: 10 })).toHaveLength(2);
  });

  it('accepts the form encoding with a payload field', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const form = new URLSearchParams({ payload: await githubPush('main', before, two, [one, two]) }).toString();
    const response = await postGithub(base, form, { contentType: 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(202);
    expect(emitted.map((c) => c.revision)).toEqual([one, two]);
    const noPayload = await postGithub(base, 'other=1', { contentType: 'application/x-www-form-urlencoded' });
    expect(noPayload.status).toBe(400);
    expect(await noPayload.json()).toMatchObject({ error: { code: 'SHEPHERD_E_VALIDATION', details: { field: 'payload' } } });
  });

  it('answers a ping and a tag push 200 as ignored', async () => {
    const base = await start();
    const ping = await postGithub(base, JSON.stringify({ zen: 'Design for failure.', hook_id: 1 }), { event: 'ping' });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ ignored: expect.stringContaining('ping') });
    const tag = await postGithub(base, JSON.stringify({ ref: 'refs/tags/v1', before: 'a', after: 'b', repository: { full_name: 'octo/proj' }, commits: [] }));
    expect(tag.status).toBe(200);
    expect(await tag.json()).toEqual({ ignored: 'refs/tags/v1 is not a branch' });
    expect(emitted).toEqual([]);
  });

  it('refuses a malformed body with 400 naming the field', async () => {
    const base = await start();
    const garbage = await postGithub(base, '{"ref": ');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toEqual({ error: { code: 'SHEPHERD_E_VALIDATION', message: expect.stringContaining('JSON'), details: { field: 'body' } } });
    const missing = await postGithub(base, JSON.stringify({ ref: 'refs/heads/main', before: 'a', after: 'b', commits: [] }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'SHEPHERD_E_VALIDATION', details: { field: 'repository' } } });
    const text = await fetch(`${base}/hooks/github`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(400);
    expect(await text.json()).toMatchObject({ error: { code: 'SHEPHERD_E_VALIDATION' } });
    const huge = await postGithub(base, JSON.stringify({ padding: 'x'.repeat(25 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'SHEPHERD_E_PAYLOAD_TOO_LARGE' } });
  });

  it('answers 202 with the reason when no change source follows the repository or branch', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const body = JSON.parse(await githubPush('main', before, two, [one, two])) as { repository: Record<string, string> };
    body.repository = { full_name: 'someone/else', clone_url: 'https://github.com/someone/else.git' };
    const unknown = await postGithub(base, JSON.stringify(body));
    expect(unknown.status).toBe(202);
    expect(await unknown.json()).toEqual({ ignored: expect.stringContaining('no change source follows repository someone/else') });

    const otherBranch = await postGithub(base, await githubPush('feature', before, two, [one, two]));
    expect(otherBranch.status).toBe(202);
    expect(await otherBranch.json()).toEqual({ ignored: expect.stringContaining('branch feature is not followed') });
    expect(emitted).toEqual([]);
    expect(await store.getHeads('proj')).toEqual({ main: before });
  });

  it('matches by clone URL, and a branch deletion removes its head', async () => {
    const base = await start();
    const { base: before, one } = await twoNewCommits();
    await store.recordChanges('proj', [], { '3.1': one }, clock.now());
    const body = JSON.parse(await githubPush('3.1', one, '0'.repeat(40), [])) as { repository: Record<string, string> };
    body.repository = { full_name: 'renamed/proj', clone_url: `${repo.origin}/` };
    const response = await postGithub(base, JSON.stringify(body));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ changes: [] });
    expect(await store.getHeads('proj')).toEqual({ main: before });
  });
});

describe('POST /hooks/gitlab and /hooks/gitea', () => {
  it('GitLab: the right token stores the push, a wrong one is 401', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const commits = (await payloadCommits([one, two])).map(({ committer: _c, distinct: _d, tree_id: _t, ...c }) => ({ ...c, author: { name: c.author.name, email: c.author.email } }));
    const body = JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      before,
      after: two,
      project: { path_with_namespace: 'octo/proj', git_http_url: 'https://gitlab.example.org/octo/proj.git' },
      commits,
      total_commits_count: 2,
    });
    const post = (token: string) =>
      fetch(`${base}/hooks/gitlab`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': token, 'x-gitlab-event-uuid': 'gl-1' },
        body,
      });
    const wrong = await post('nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'SHEPHERD_E_HOOK_SIGNATURE' } });
    expect(emitted).toEqual([]);
    const right = await post(ENV.GL_TOKEN);
    expect(right.status).toBe(202);
    expect(emitted.map((c) => [c.revision, c.via, c.author])).toEqual([
      [one, 'gitlab', 'Alice Author <alice@example.org>'],
      [two, 'gitlab', 'Carla Committer <carla@example.org>'],
    ]);
    expect(await (await post(ENV.GL_TOKEN)).json()).toEqual({ duplicate: true });
  });

  it('Gitea: a signed push (newest commit first) is stored oldest first', async () => {
    const base = await start();
    const { base: before, one, two } = await twoNewCommits();
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      before,
      after: two,
      commits: (await payloadCommits([one, two])).reverse(),
      repository: { full_name: 'octo/proj', clone_url: 'https://gitea.example.org/octo/proj.git' },
    });
    const post = (secret: string) =>
      fetch(`${base}/hooks/gitea`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-delivery': 'gt-1', 'x-gitea-signature': sign(body, secret) },
        body,
      });
    expect((await post('wrong')).status).toBe(401);
    const response = await post(ENV.GT_SECRET);
    expect(response.status).toBe(202);
    expect(emitted.map((c) => [c.revision, c.via])).toEqual([
      [one, 'gitea'],
      [two, 'gitea'],
    ]);
  });

  it('answers 404 naming the config key for a provider that is not configured', async () => {
    const base = await start({ github: { secret_env: 'GH_SECRET' } });
    for (const [provider, key] of [
      ['gitlab', 'hooks.gitlab.token_env'],
      ['gitea', 'hooks.gitea.secret_env'],
    ] as const) {
      const response = await fetch(`${base}/hooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'SHEPHERD_E_NOT_FOUND', message: expect.stringContaining(key) } });
    }
  });
});
