/**
 * Changes to notifications, end to end: a real bare git repository, a real
 * master process polling it (and receiving a signed GitHub push), a real
 * worker agent checking the commits out, `shepherd try` from a real clone,
 * and a real SMTP server receiving the failure and recovery mail.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  ManagedProcess,
  apiGet,
  freePort,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

interface Mail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives. */
async function startSmtp(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '';
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const AUTHORS = {
  ada: { GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.org' },
  bob: { GIT_AUTHOR_NAME: 'Bob Breaker', GIT_AUTHOR_EMAIL: 'bob@example.org' },
  carol: { GIT_AUTHOR_NAME: 'Carol Again', GIT_AUTHOR_EMAIL: 'carol@example.org' },
  dan: { GIT_AUTHOR_NAME: 'Dan Fixer', GIT_AUTHOR_EMAIL: 'dan@example.org' },
};

/** The config: one source, an on-change scheduler for two builders (one collapsing), try, and mail to the blamelist. */
function config(o: { dir: string; port: number; bare: string; smtpPort: number }): string {
  const steps = `
    steps:
      - name: checkout
        checkout: { source: proj }
      - name: test
        run: sh ./test.sh`;
  return `
master:
  listen: 127.0.0.1:${o.port}
  database: sqlite:${o.dir}/data/shepherd.sqlite
  data_dir: ${o.dir}/data
  api_token_env: SHEPHERD_API_TOKEN
  public_url: http://shepherd.example.org
workers:
  - name: w1
    secret_env: SHEPHERD_SECRET_W1
    max_builds: 4
    dimensions: { os: linux }
changes:
  - name: proj
    git: file://${o.bare}
    branches: [main]
    poll: 1h
    repository: example/proj
hooks:
  github: { secret_env: GITHUB_HOOK_SECRET }
schedulers:
  - name: on-commit
    on_change: { changes: proj, branches: [main], ignore: ["Doc/**", "*.md"] }
    builders: [each, collapsed]
  - name: try
    try: { max_patch: 1MB }
    builders: [each]
builders:
  - name: each
    collapse: false
    workers: { os: linux }${steps}
  - name: collapsed
    workers: { os: linux }${steps}
notify:
  mail: { smtp: "smtp://127.0.0.1:${o.smtpPort}", from: shepherd@example.org }
  notifiers:
    - name: blame
      builders: [each]
      mail: { to: [dev-list@example.org], blamelist: true }
`;
}

describe('changes, schedulers, checkouts, try builds and notifications', () => {
  let dir: string;
  let bare: string;
  let clone: string;
  let url: string;
  let token: string;
  let hookSecret: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let master: ManagedProcess;
  let worker: ManagedProcess | undefined;
  let workerSecret: string;

  const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  /** Commits `files` in the clone as `author` and pushes; returns the new revision. */
  function commit(files: Record<string, string>, message: string, author: Record<string, string>): string {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(clone, name, '..'), { recursive: true });
      writeFileSync(join(clone, name), text);
    }
    git(clone, ['add', '-A']);
    git(clone, ['commit', '-q', '-m', message], author);
    git(clone, ['push', '-q', 'origin', 'main']);
    return git(clone, ['rev-parse', 'HEAD']);
  }

  async function poll(): Promise<any[]> {
    const response = await fetch(`${url}/api/v1/sources/proj/poll`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as any).changes;
  }

  async function queued(): Promise<any[]> {
    return (await apiGet(url, '/requests')).requests;
  }

  /** Every finished build of a builder, oldest first, with its details. */
  async function finishedBuilds(builder: string): Promise<any[]> {
    const { builds } = await apiGet(url, `/builds?builder=${builder}&state=finished&limit=500`);
    return Promise.all(builds.reverse().map((b: any) => apiGet(url, `/builds/${b.id}`)));
  }

  async function waitForBuilds(builder: string, count: number): Promise<any[]> {
    return waitFor(`${count} finished builds of ${builder}`, async () => {
      const builds = await finishedBuilds(builder);
      return builds.length >= count ? builds : undefined;
    }, 60_000);
  }

  async function stepLog(build: any, step: string): Promise<string> {
    const s = build.steps.find((x: any) => x.name === step);
    return (await fetch(`${url}${s.log.url}`)).text();
  }

  beforeAll(async () => {
    dir = tempDir();
    bare = join(dir, 'proj.git');
    clone = join(dir, 'clone');
    git(dir, ['init', '-q', '--bare', '-b', 'main', bare]);
    git(dir, ['clone', '-q', bare, clone]);
    git(clone, ['config', 'user.name', 'Tia Tester']);
    git(clone, ['config', 'user.email', 'tia@example.org']);
    git(clone, ['checkout', '-q', '-b', 'main']);
    commit({ 'test.sh': 'cat greeting\nexit "$(cat status)"\n', greeting: 'hello 0\n', status: '0\n' }, 'initial', AUTHORS.ada);

    smtp = await startSmtp();
    const port = await freePort();
    token = secret();
    hookSecret = secret();
    workerSecret = secret();
    const configPath = writeFile(dir, 'shepherd.yml', config({ dir, port, bare, smtpPort: smtp.port }));
    ({ process: master, url } = await startMasterProcess(configPath, {
      SHEPHERD_API_TOKEN: token,
      SHEPHERD_SECRET_W1: workerSecret,
      GITHUB_HOOK_SECRET: hookSecret,
    }));
    master.shareAcrossTests();
    // The first poll records the head without building it.
    await waitFor('the first poll', async () => {
      const { sources } = await apiGet(url, '/sources');
      return sources[0].heads.main ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await master?.stop();
    await smtp?.close();
  });

  it('builds three commits pushed one after another: each one on its own builder, collapsed on the other', async () => {
    expect(await queued()).toEqual([]);
    const revisions: string[] = [];
    for (const n of [1, 2, 3]) {
      revisions.push(commit({ greeting: `hello ${n}\n` }, `greeting ${n}`, AUTHORS.ada));
      const changes = await poll();
      expect(changes.map((c) => c.revision)).toEqual([revisions[n - 1]]);
      expect(changes[0]).toMatchObject({ branch: 'main', author: 'Ada Lovelace <ada@example.org>', message: `greeting ${n}`, files: ['greeting'], via: 'poll' });
    }
    // No worker yet: the requests wait, three per builder.
    await waitFor('six queued requests', async () => ((await queued()).length === 6 ? true : undefined));

    worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'w1', secret: workerSecret, dir: join(dir, 'w1') }).shareAcrossTests();
    await waitForWorkers(url, ['w1']);

    const each = await waitForBuilds('each', 3);
    expect(each.map((b) => [b.result, b.revision, b.blamelist.map((c: any) => c.revision)])).toEqual(
      revisions.map((r) => ['SUCCESS', r, [r]]),
    );
    expect(await stepLog(each[2], 'test')).toContain('hello 3');
    expect(each[0].properties.got_revision).toBe(revisions[0]);

    const [collapsed] = await waitForBuilds('collapsed', 1);
    expect(collapsed).toMatchObject({ result: 'SUCCESS', revision: revisions[2] });
    expect(collapsed.blamelist.map((c: any) => c.revision)).toEqual(revisions);
    expect(await stepLog(collapsed, 'test')).toContain('hello 3');

    // The changes list names the builds each change is in.
    const { changes } = await apiGet(url, '/changes');
    expect(changes[0].revision).toBe(revisions[2]);
    expect(changes[0].builds.map((b: any) => b.builder).sort()).toEqual(['collapsed', 'each']);
  }, 90_000);

  it('a commit touching only Doc/ triggers nothing; the next code commit builds both', async () => {
    const before = (await finishedBuilds('each')).length;
    const docs = commit({ 'Doc/intro.rst': 'Intro\n', 'NEWS.md': '- docs\n' }, 'docs only', AUTHORS.ada);
    expect((await poll()).map((c) => c.revision)).toEqual([docs]);
    const code = commit({ greeting: 'hello 4\n' }, 'greeting 4', AUTHORS.ada);
    expect((await poll()).map((c) => c.revision)).toEqual([code]);

    const each = await waitForBuilds('each', before + 1);
    const latest = each[each.length - 1];
    // One build, not two: the docs change rode along with the code change.
    expect(latest.revision).toBe(code);
    expect(latest.blamelist.map((c: any) => c.revision)).toEqual([docs, code]);
    const { changes } = await apiGet(url, '/changes?limit=2');
    expect(changes.find((c: any) => c.revision === docs).builds.map((b: any) => b.builder).sort()).toEqual(['collapsed', 'each']);
    expect(each.filter((b) => b.revision === docs)).toEqual([]);
  }, 60_000);

  it('a signed GitHub push queues builds; the same body with a wrong signature gets 401 and queues nothing', async () => {
    // Pushed to the repository, announced by webhook only.
    const revision = commit({ greeting: 'hello 5\n' }, 'greeting 5', AUTHORS.ada);
    const before = git(clone, ['rev-parse', 'HEAD~1']);
    const payload = JSON.stringify({
      ref: 'refs/heads/main',
      before,
      after: revision,
      deleted: false,
      repository: { full_name: 'example/proj', clone_url: `file://${bare}` },
      commits: [
        {
          id: revision,
          message: 'greeting 5',
          timestamp: new Date().toISOString(),
          author: { name: 'Ada Lovelace', email: 'ada@example.org' },
          committer: { name: 'Ada Lovelace', email: 'ada@example.org' },
          added: [],
          removed: [],
          modified: ['greeting'],
        },
      ],
      head_commit: { id: revision },
    });
    const send = (signature: string, delivery: string) =>
      fetch(`${url}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': signature },
        body: payload,
      });
    const changesBefore = (await apiGet(url, '/changes')).changes.length;
    const forged = await send(`sha256=${createHmac('sha256', 'not the secret').update(payload).digest('hex')}`, 'delivery-1');
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as any).error.code).toBe('SHEPHERD_E_HOOK_SIGNATURE');
    expect((await apiGet(url, '/changes')).changes.length).toBe(changesBefore);
    expect(await queued()).toEqual([]);

    const signed = await send(`sha256=${createHmac('sha256', hookSecret).update(payload).digest('hex')}`, 'delivery-2');
    expect(signed.status).toBe(202);
    const each = await waitFor('the pushed revision built', async () => {
      const builds = await finishedBuilds('each');
      return builds.find((b) => b.revision === revision);
    }, 60_000);
    expect(each).toMatchObject({ result: 'SUCCESS' });
    expect(each.blamelist[0]).toMatchObject({ revision, via: 'github' });
    // Redelivered: ignored.
    const again = await send(`sha256=${createHmac('sha256', hookSecret).update(payload).digest('hex')}`, 'delivery-2');
    expect(again.status).toBe(200);
    expect(await queued()).toEqual([]);
  }, 60_000);

  it('shepherd try builds the local diff on its base; a patch that does not apply fails with a clear message', async () => {
    // Uncommitted work in the clone: `shepherd try` sends the diff against the upstream base.
    writeFileSync(join(clone, 'greeting'), 'hello from a try\n');
    const tried = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'try', '--builder', 'each', '--wait', '--json', '--master', url], {
        cwd: clone,
        env: { ...process.env, SHEPHERD_API_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const proc = new ManagedProcess('shepherd try', child);
      void proc.exited.then(({ code }) => resolve({ code, stdout: proc.stdout, stderr: proc.stderr }));
    });
    expect(tried.stderr).not.toMatch(/shepherd: /);
    expect(tried.code).toBe(0);
    git(clone, ['checkout', '-q', '--', 'greeting']);
    const tryBuild = await waitFor('the try build', async () => (await finishedBuilds('each')).find((b) => b.properties.scheduler === 'try'));
    expect(tryBuild.result).toBe('SUCCESS');
    expect(tryBuild.revision).toBe(git(clone, ['rev-parse', 'origin/main']));
    expect(await stepLog(tryBuild, 'test')).toContain('hello from a try');

    const bad = Buffer.from('diff --git a/greeting b/greeting\n--- a/greeting\n+++ b/greeting\n@@ -1 +1 @@\n-no such line\n+whatever\n');
    const response = await fetch(`${url}/api/v1/try`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ builders: ['each'], patch_base64: bad.toString('base64'), base_revision: '', author: 'Tia Tester <tia@example.org>' }),
    });
    expect(response.status).toBe(201);
    const { requests } = (await response.json()) as any;
    const failed: any = await waitFor('the failing try build', async () => {
      const request = await apiGet(url, `/requests/${requests[0].id}`);
      return request.state === 'complete' ? apiGet(url, `/builds/${request.build_id}`) : undefined;
    }, 60_000);
    expect(failed.result).toBe('FAILURE');
    expect(failed.steps.map((s: any) => [s.name, s.result])).toEqual([['checkout', 'FAILURE'], ['test', 'SKIPPED']]);
    const log = await stepLog(failed, 'checkout');
    expect(log).toMatch(/patch failed|does not apply/);
    expect(log).toContain('[shepherd] the try patch does not apply');
  }, 90_000);

  it('a builder going red mails the blamelist once; repeated failures mail nothing; going green mails the recovery', async () => {
    const blameMails = () => smtp.mails.filter((m) => m.to.includes('dev-list@example.org'));
    expect(blameMails()).toEqual([]);
    const count = (await finishedBuilds('each')).length;

    commit({ status: '1\n' }, 'break the build', AUTHORS.bob);
    await poll();
    await waitForBuilds('each', count + 1);
    const failing = await waitFor('the failure mail', () => (blameMails().length >= 1 ? blameMails() : undefined));
    expect(failing).toHaveLength(1);
    expect(failing[0]!.to.sort()).toEqual(['bob@example.org', 'dev-list@example.org']);
    expect(failing[0]!.subject).toMatch(/each #\d+ failed/);
    expect(failing[0]!.raw).toContain('http://shepherd.example.org/builds/');
    expect(failing[0]!.raw).toContain('hello 5');

    commit({ greeting: 'still broken\n' }, 'still broken', AUTHORS.carol);
    await poll();
    await waitForBuilds('each', count + 2);

    commit({ status: '0\n' }, 'fix the build', AUTHORS.dan);
    await poll();
    await waitForBuilds('each', count + 3);
    const all = await waitFor('the recovery mail', () => (blameMails().length >= 2 ? blameMails() : undefined));
    // Carol's failure sent nothing: the builder was already red.
    expect(all).toHaveLength(2);
    expect(all[1]!.subject).toMatch(/each #\d+ recovered/);
    expect(all[1]!.to.sort()).toEqual(['dan@example.org', 'dev-list@example.org']);
    expect(smtp.mails.some((m) => m.to.includes('carol@example.org'))).toBe(false);
  }, 90_000);
});
