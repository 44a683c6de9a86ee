/**
 * The patch `try` uploads, taken from real git checkouts in temporary
 * directories (a bare "remote", clones with and without an upstream) and
 * from files and stdin.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from './errors.js';
import { gitAuthor, resolveTryPatch } from './patch-source.js';

const gitEnv = {
  ...process.env,
  LC_ALL: 'C',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.org',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.org',
  GIT_CONFIG_NOSYSTEM: '1',
};

let root: string;
/** The bare repository standing in for the project's remote. */
let origin: string;
/** A clone whose `main` tracks origin/main. */
let work: string;
/** The remote's main when the clone was made. */
let forkPoint: string;
const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0]);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}

/** Rejection of a promise as a CliError. */
async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shepherd-try-'));
  origin = join(root, 'origin.git');
  const seed = join(root, 'seed');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', origin], { env: gitEnv });
  execFileSync('git', ['init', '-q', '-b', 'main', seed], { env: gitEnv });
  writeFileSync(join(seed, 'a.txt'), 'one\ntwo\n');
  git(seed, 'add', 'a.txt');
  git(seed, 'commit', '-q', '-m', 'first');
  git(seed, 'push', '-q', origin, 'main');
  forkPoint = git(seed, 'rev-parse', 'HEAD');
  work = join(root, 'work');
  execFileSync('git', ['clone', '-q', origin, work], { env: gitEnv });
  // The remote moves on after the clone: the fork point, not the remote's head, is the base.
  writeFileSync(join(seed, 'later.txt'), 'later\n');
  git(seed, 'add', 'later.txt');
  git(seed, 'commit', '-q', '-m', 'later');
  git(seed, 'push', '-q', origin, 'main');
  git(work, 'fetch', '-q');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the checkout patch', () => {
  it('diffs the working tree (commits, uncommitted and binary changes) against the merge base with the upstream', async () => {
    writeFileSync(join(work, 'a.txt'), 'one\ntwo\nthree\n');
    git(work, 'commit', '-q', '-am', 'committed change');
    writeFileSync(join(work, 'a.txt'), 'zero\none\ntwo\nthree\n');
    writeFileSync(join(work, 'blob.bin'), binary);
    git(work, 'add', 'blob.bin');

    const patch = await resolveTryPatch({ cwd: work });
    expect(patch).toMatchObject({ baseRevision: forkPoint, branch: 'main', origin: `git diff ${forkPoint.slice(0, 8)}` });

    // The patch recreates the working tree on a fresh checkout of the base.
    const other = join(root, 'other');
    execFileSync('git', ['clone', '-q', origin, other], { env: gitEnv });
    git(other, 'checkout', '-q', forkPoint);
    execFileSync('git', ['apply', '--index', '-'], { cwd: other, env: gitEnv, input: patch.diff });
    expect(readFileSync(join(other, 'a.txt'), 'utf8')).toBe('zero\none\ntwo\nthree\n');
    expect(readFileSync(join(other, 'blob.bin'))).toEqual(binary);
  });

  it("names the upstream's branch, not the local one", async () => {
    git(work, 'checkout', '-q', '-b', 'topic', '--track', 'origin/main');
    writeFileSync(join(work, 'a.txt'), 'changed\n');
    expect(await resolveTryPatch({ cwd: work })).toMatchObject({ branch: 'main' });
    expect(await resolveTryPatch({ cwd: work, branch: 'release' })).toMatchObject({ branch: 'release' });
  });

  it('without an upstream, says to pass --base or --diff (usage, exit 2); --base then works', async () => {
    git(work, 'checkout', '-q', '--no-track', '-b', 'alone');
    writeFileSync(join(work, 'a.txt'), 'changed\n');
    const error = await failure(resolveTryPatch({ cwd: work }));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toMatch(/no upstream.*pass --base REV, or --diff FILE$/);

    const patch = await resolveTryPatch({ cwd: work, base: 'HEAD~0' });
    expect(patch).toMatchObject({ baseRevision: git(work, 'rev-parse', 'HEAD'), branch: undefined });
    expect(patch.diff.toString()).toContain('+changed');
  });

  it('refuses a --base that is not a commit, or looks like an option', async () => {
    expect((await failure(resolveTryPatch({ cwd: work, base: 'no-such-ref' }))).message).toBe(
      '--base: "no-such-ref" is not a commit in this checkout',
    );
    expect((await failure(resolveTryPatch({ cwd: work, base: '--output=x' }))).exitCode).toBe(EXIT.usage);
  });

  it('outside a checkout, says to pass --diff', async () => {
    const error = await failure(resolveTryPatch({ cwd: root }));
    expect(error.message).toMatch(/is not in a git checkout.*--diff FILE/);
    expect(error.exitCode).toBe(EXIT.usage);
  });

  it('refuses an empty diff: nothing to try', async () => {
    const error = await failure(resolveTryPatch({ cwd: work }));
    expect(error.message).toBe(`nothing to try: the checkout does not differ from ${forkPoint.slice(0, 8)}`);
    expect(error.exitCode).toBe(EXIT.failure);
  });
});

describe('a patch file', () => {
  it('is read as it is, applying on the branch head unless --base says', async () => {
    const file = join(root, 'fix.patch');
    writeFileSync(file, binary);
    expect(await resolveTryPatch({ cwd: root, diff: file })).toEqual({ diff: binary, baseRevision: '', branch: undefined, origin: file });
    expect(await resolveTryPatch({ cwd: work, diff: file, base: 'v1.2', branch: 'dev' })).toMatchObject({ baseRevision: 'v1.2', branch: 'dev' });
  });

  it('is read from stdin for "-"', async () => {
    const stdin = Readable.from([Buffer.from('diff --git a/x b/x\n'), Buffer.from('+y\n')]);
    const patch = await resolveTryPatch({ cwd: root, diff: '-', stdin });
    expect(patch.diff.toString()).toBe('diff --git a/x b/x\n+y\n');
    expect(patch.origin).toBe('stdin');
  });

  it('refuses an empty or missing file', async () => {
    writeFileSync(join(root, 'empty.patch'), '');
    expect((await failure(resolveTryPatch({ cwd: root, diff: join(root, 'empty.patch') }))).message).toMatch(/^nothing to try: .*empty\.patch is empty$/);
    expect((await failure(resolveTryPatch({ cwd: root, diff: '-', stdin: Readable.from([]) }))).message).toBe('nothing to try: stdin is empty');
    expect((await failure(resolveTryPatch({ cwd: root, diff: join(root, 'nope.patch') }))).message).toMatch(/^--diff: cannot read .*nope\.patch: ENOENT/);
  });
});

describe('gitAuthor', () => {
  it("is git's user.name and user.email", async () => {
    git(work, 'config', 'user.name', 'Grace Hopper');
    git(work, 'config', 'user.email', 'grace@example.org');
    expect(await gitAuthor(work)).toBe('Grace Hopper <grace@example.org>');
  });
});
