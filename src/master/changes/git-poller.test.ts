import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/databases.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { ChangeSourceConfig } from '../config/schema.js';
import type { Change } from '../domain.js';
import { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { parseCommitLog, parseLsRemote } from './commits.js';
import { GitError, runGit } from './git.js';
import { GitPoller } from './git-poller.js';
import { TEST_COMMITTER, TestRepo } from './test-repo.js';

const COMMITTER = `${TEST_COMMITTER.name} <${TEST_COMMITTER.email}>`;
const ALICE = 'Alice Author <alice@example.org>';

let repo: TestRepo;
let store: Store;
let clock: ManualClock;
let events: MasterEventBus;
let emitted: Change[];
let logged: { level: number; msg: string }[];
/** Waiters re-checked on every log line. */
let logWaiters: { done: () => boolean; resolve: () => void }[];
let pollers: GitPoller[];

beforeEach(async () => {
  repo = await TestRepo.create();
  store = await openTestStore('sqlite');
  clock = new ManualClock();
  events = new MasterEventBus((_event, error) => {
    throw error;
  });
  emitted = [];
  events.on('change:new', ({ change }) => emitted.push(change));
  logged = [];
  logWaiters = [];
  pollers = [];
});

afterEach(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  await store.close();
  await repo.remove();
});

function sourceConfig(overrides: Record<string, unknown> = {}): ChangeSourceConfig {
  const config = parseConfig({ changes: [{ name: 'proj', git: repo.origin, branches: ['main'], poll: '1m', ...overrides }] }, '/test/shepherd.yaml');
  return config.changes[0]!;
}

function poller(overrides: Record<string, unknown> = {}): GitPoller {
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        logged.push(entry);
        logWaiters = logWaiters.filter((waiter) => {
          if (!waiter.done()) return true;
          waiter.resolve();
          return false;
        });
      },
    },
  );
  const created = new GitPoller({
    source: sourceConfig(overrides),
    mirrorDir: join(repo.dir, 'data', 'changes', 'proj.git'),
    store,
    events,
    clock,
    logger,
  });
  pollers.push(created);
  return created;
}

/** Resolves once `count` log lines contain `text`. */
function loggedLines(text: string, count = 1): Promise<void> {
  const done = () => logged.filter((entry) => entry.msg.includes(text)).length >= count;
  if (done()) return Promise.resolve();
  return new Promise((resolve) => logWaiters.push({ done, resolve }));
}

/** The fields of a change a poll determines (id and receivedAt are the store's). */
function stripped(change: Change) {
  const { id: _id, receivedAt: _receivedAt, ...rest } = change;
  return rest;
}

describe('GitPoller', () => {
  it('records the heads on the first poll without changes (on_first_poll: record)', async () => {
    const head = await repo.commit('initial', { 'README.md': 'hello\n' });
    await repo.push();
    const p = poller();
    expect(await p.pollOnce()).toEqual([]);
    expect(await store.getHeads('proj')).toEqual({ main: head });
    expect(emitted).toEqual([]);
    // Nothing moved: nothing to do.
    expect(await p.pollOnce()).toEqual([]);
  });

  it('emits the head commit on the first poll with on_first_poll: build (a root commit lists every file)', async () => {
    await repo.commit('older', { 'a.txt': 'a\n' });
    const when = repo.nextCommitTime;
    const head = await repo.commit('initial import\n\nwith a body', { 'src/main.c': 'int main;\n', 'README.md': 'x\n' }, { author: ALICE });
    await repo.push();
    const changes = await poller({ on_first_poll: 'build' }).pollOnce();
    expect(changes.map(stripped)).toEqual([
      {
        source: 'proj',
        repository: repo.origin,
        branch: 'main',
        revision: head,
        author: ALICE,
        committer: COMMITTER,
        message: 'initial import\n\nwith a body',
        files: ['README.md', 'src/main.c'],
        when,
        via: 'poll',
      },
    ]);
    expect(emitted).toEqual(changes);

    // A root commit's files are all of its files.
    const rootRepo = await TestRepo.create();
    try {
      await rootRepo.commit('root', { 'x/1': '1', 'y/2': '2' });
      await rootRepo.push();
      const rootPoller = new GitPoller({
        source: { ...sourceConfig({ on_first_poll: 'build' }), name: 'root', git: rootRepo.origin },
        mirrorDir: join(rootRepo.dir, 'mirror.git'),
        store,
        events,
        clock,
        logger: pino({ level: 'silent' }),
      });
      const [root] = await rootPoller.pollOnce();
      expect(root!.files).toEqual(['x/1', 'y/2']);
    } finally {
      await rootRepo.remove();
    }
  });

  it('turns three commits pushed one after another into three changes, in order, with every field', async () => {
    const base = await repo.commit('base', { 'a.c': 'a\n', 'b.c': 'b\n', 'docs/old.md': 'old\n' });
    await repo.push();
    const p = poller();
    await p.pollOnce();

    const times: number[] = [];
    const revisions: string[] = [];
    times.push(repo.nextCommitTime);
    revisions.push(await repo.commit('Add c.c', { 'c.c': 'c\n' }, { author: ALICE }));
    await repo.push();
    times.push(repo.nextCommitTime);
    revisions.push(await repo.commit('Change a, drop docs\n\nLonger explanation.\n\nSigned-off-by: Alice', { 'a.c': 'a2\n', 'docs/old.md': null }));
    await repo.push();
    times.push(repo.nextCommitTime);
    revisions.push(await repo.commit('Rename b.c to lib/b.c', { 'b.c': null, 'lib/b.c': 'b\n' }, { author: ALICE }));
    await repo.push();

    const changes = await p.pollOnce();
    expect(changes.map(stripped)).toEqual([
      { source: 'proj', repository: repo.origin, branch: 'main', revision: revisions[0], author: ALICE, committer: COMMITTER, message: 'Add c.c', files: ['c.c'], when: times[0], via: 'poll' },
      {
        source: 'proj',
        repository: repo.origin,
        branch: 'main',
        revision: revisions[1],
        author: COMMITTER,
        committer: COMMITTER,
        message: 'Change a, drop docs\n\nLonger explanation.\n\nSigned-off-by: Alice',
        files: ['a.c', 'docs/old.md'],
        when: times[1],
        via: 'poll',
      },
      // Both sides of a rename.
      { source: 'proj', repository: repo.origin, branch: 'main', revision: revisions[2], author: ALICE, committer: COMMITTER, message: 'Rename b.c to lib/b.c', files: ['b.c', 'lib/b.c'], when: times[2], via: 'poll' },
    ]);
    expect(emitted.map((c) => c.revision)).toEqual(revisions);
    expect(await store.getHeads('proj')).toEqual({ main: revisions[2] });
    expect(base).not.toBe(revisions[0]);
  });

  it('turns a push of three commits at once into three changes; a merge lists the files against its first parent', async () => {
    await repo.commit('base', { 'a.c': 'a\n' });
    await repo.push();
    const p = poller();
    await p.pollOnce();

    const one = await repo.commit('one', { '1.c': '1\n' });
    await repo.checkout('topic', { create: true, from: 'HEAD~1' });
    const topic = await repo.commit('topic work', { 'topic.c': 't\n', 'a.c': 'changed on topic\n' });
    await repo.checkout('main');
    await repo.git('merge', '--quiet', '--no-ff', '--no-edit', 'topic');
    const merge = await repo.git('rev-parse', 'HEAD');
    await repo.push('main');

    const changes = await p.pollOnce();
    expect(changes.map((c) => c.revision).sort()).toEqual([one, topic, merge].sort());
    expect(changes.at(-1)!.revision).toBe(merge);
    expect(changes.at(-1)!.files).toEqual(['a.c', 'topic.c']);
    expect(changes.every((c) => c.branch === 'main')).toBe(true);
  });

  it('keeps only the newest max_changes_per_push commits of a push', async () => {
    await repo.commit('base', { 'a': '0' });
    await repo.push();
    const p = poller({ max_changes_per_push: 2 });
    await p.pollOnce();
    const revisions: string[] = [];
    for (let i = 1; i <= 5; i++) revisions.push(await repo.commit(`c${i}`, { a: String(i) }));
    await repo.push();
    expect((await p.pollOnce()).map((c) => c.revision)).toEqual(revisions.slice(3));
  });

  it('after a force-push yields only the commits since the fork point', async () => {
    const base = await repo.commit('base', { a: '0' });
    await repo.commit('doomed 1', { a: '1' });
    await repo.commit('doomed 2', { a: '2' });
    await repo.push();
    const p = poller();
    await p.pollOnce();

    await repo.git('reset', '--quiet', '--hard', base);
    const replacement = [await repo.commit('new 1', { b: '1' }), await repo.commit('new 2', { b: '2' })];
    await repo.push('main', { force: true });
    expect((await p.pollOnce()).map((c) => c.revision)).toEqual(replacement);
    expect(await store.getHeads('proj')).toEqual({ main: replacement[1] });
  });

  it('follows a new branch matching a glob with its own commits only, and ignores branches it does not follow', async () => {
    await repo.commit('base', { a: '0' });
    await repo.commit('main work', { a: '1' });
    const mainHead = await repo.git('rev-parse', 'HEAD');
    await repo.push();
    const p = poller({ branches: ['main', '3.*'] });
    await p.pollOnce();

    await repo.checkout('3.13', { create: true });
    const own = [await repo.commit('backport 1', { b: '1' }), await repo.commit('backport 2', { b: '2' })];
    await repo.push('3.13');
    await repo.checkout('feature', { create: true });
    await repo.commit('feature work', { c: '1' });
    await repo.push('feature');

    const changes = await p.pollOnce();
    expect(changes.map((c) => [c.branch, c.revision])).toEqual(own.map((rev) => ['3.13', rev]));
    expect(await store.getHeads('proj')).toEqual({ main: mainHead, '3.13': own[1] });

    // A branch created at a known head brings no changes, only its head.
    await repo.checkout('main');
    await repo.checkout('3.14', { create: true });
    await repo.push('3.14');
    expect(await p.pollOnce()).toEqual([]);
    expect((await store.getHeads('proj'))['3.14']).toBe(mainHead);
  });

  it('removes the head of a deleted branch and nothing else', async () => {
    await repo.commit('base', { a: '0' });
    await repo.push();
    await repo.checkout('3.1', { create: true });
    const branchHead = await repo.commit('on 3.1', { a: '1' });
    await repo.push('3.1');
    const p = poller({ branches: ['main', '3.*'] });
    await p.pollOnce();
    expect(Object.keys(await store.getHeads('proj')).sort()).toEqual(['3.1', 'main']);
    expect(branchHead).toBeTruthy();

    await repo.deleteRemoteBranch('3.1');
    expect(await p.pollOnce()).toEqual([]);
    expect(Object.keys(await store.getHeads('proj'))).toEqual(['main']);
    expect(emitted).toEqual([]);
  });

  it('logs an unreachable repository and polls again at the next interval, never throwing from the timer', async () => {
    const p = poller({ git: join(repo.dir, 'does-not-exist.git') });
    await expect(p.pollOnce()).rejects.toThrow(GitError);
    await expect(p.pollOnce()).rejects.toThrow(/git ls-remote --heads -- .*does-not-exist\.git failed \(exit \d+\): .*does-not-exist/s);

    p.start();
    await loggedLines('polling change source proj failed');
    const failures = () => logged.filter((entry) => entry.msg.includes('polling change source proj failed')).length;
    expect(failures()).toBe(1);
    expect(logged[0]!.msg).toMatch(/does-not-exist.*retrying in 60000 ms/s);
    clock.advance(59_999);
    expect(failures()).toBe(1);
    clock.advance(1);
    await loggedLines('polling change source proj failed', 2);
    expect(failures()).toBe(2);
    await p.stop();
  });

  it('polls on start and then every interval on the clock, until stopped', async () => {
    await repo.commit('base', { a: '0' });
    await repo.push();
    const p = poller({ on_first_poll: 'build' });
    const first = events.once('change:new');
    p.start();
    await first;
    // Joins the running poll: once it returns, the next one is on the clock.
    await p.pollOnce();
    const next = await repo.commit('next', { a: '1' });
    await repo.push();
    const second = events.once('change:new');
    clock.advance(60_000);
    expect((await second).change.revision).toBe(next);
    await p.stop();
    await repo.commit('after stop', { a: '2' });
    await repo.push();
    clock.advance(120_000);
    // A stopped poller arms no timer: nothing would ever poll this commit.
    await p.stop();
    expect(emitted.map((c) => c.message)).toEqual(['base', 'next']);
  });

  it('shares one running poll between concurrent callers and does not re-emit after a restart', async () => {
    await repo.commit('base', { a: '0' });
    await repo.push();
    const p = poller();
    const [x, y] = [p.pollOnce(), p.pollOnce()];
    expect(x).toBe(y);
    await x;
    const one = await repo.commit('one', { a: '1' });
    await repo.push();
    expect((await p.pollOnce()).map((c) => c.revision)).toEqual([one]);
    await p.stop();

    // A new poller over the same store and mirror, as after a master restart.
    const again = poller();
    expect(await again.pollOnce()).toEqual([]);
    const two = await repo.commit('two', { a: '2' });
    await repo.push();
    expect((await again.pollOnce()).map((c) => c.revision)).toEqual([two]);
    expect(emitted.map((c) => c.revision)).toEqual([one, two]);
  });

  it('never polls with poll: 0 (webhooks only)', async () => {
    await repo.commit('base', { a: '0' });
    await repo.push();
    const p = poller({ poll: '0', on_first_poll: 'build' });
    p.start();
    clock.advance(3_600_000);
    await p.stop();
    expect(emitted).toEqual([]);
    expect(await store.getHeads('proj')).toEqual({});
  });
});

describe('git output parsing', () => {
  it('reads ls-remote heads', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    expect(parseLsRemote(`${a}\trefs/heads/main\n${b}\trefs/heads/release/3.1\n${a}\trefs/tags/v1\n`)).toEqual(
      new Map([
        ['main', a],
        ['release/3.1', b],
      ]),
    );
  });

  it('reads a log with empty commits and messages holding the record separator', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const text = `\x1e${a}\x00A <a@x>\x00C <c@x>\x00100\x00odd \x1e message\n\x00\x00\nf1\x00dir/f 2\x00\x1e${b}\x00A <a@x>\x00C <c@x>\x00200\x00empty\n\x00`;
    expect(parseCommitLog(text)).toEqual([
      { revision: a, author: 'A <a@x>', committer: 'C <c@x>', message: 'odd \x1e message', files: ['f1', 'dir/f 2'], when: 100_000 },
      { revision: b, author: 'A <a@x>', committer: 'C <c@x>', message: 'empty', files: [], when: 200_000 },
    ]);
  });

  it('kills a git command that runs past its time limit', async () => {
    const started = Date.now();
    await expect(runGit(['-c', 'alias.nap=!sleep 30', 'nap'], { timeoutMs: 300 })).rejects.toThrow(/git -c alias.nap=!sleep 30 nap timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('hides passwords in URLs it shows', async () => {
    const error = await runGit(['ls-remote', '--heads', '--', 'file:///nonexistent/u:p@x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
  });
});
