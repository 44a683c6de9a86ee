/**
 * The checkout script run for real: `/bin/sh -c` in temporary directories,
 * against a real bare repository, exactly as the agent runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkoutCommand, checkoutScript, type CheckoutScriptSpec } from './script.js';
import { shellCommand, shellQuote } from './shell-quote.js';

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
/** The bare repository builds check out from. */
let origin: string;
/** Where the test makes commits and pushes them to `origin`. */
let author: string;
let url: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}

/** Commits `files` (null: delete) on the author's current branch and pushes; returns the sha. */
function commit(files: Record<string, string | Buffer | null>, message = 'change', branch = 'main'): string {
  for (const [name, content] of Object.entries(files)) {
    if (content === null) git(author, 'rm', '-q', name);
    else {
      writeFileSync(join(author, name), content);
      git(author, 'add', name);
    }
  }
  git(author, 'commit', '-q', '-m', message);
  git(author, 'push', '-q', '--force', 'origin', `HEAD:refs/heads/${branch}`);
  return git(author, 'rev-parse', 'HEAD');
}

function makeRepos(originName = 'origin.git'): void {
  origin = join(root, originName);
  author = join(root, 'author');
  execFileSync('git', ['init', '-q', '--bare', origin], { env: gitEnv });
  execFileSync('git', ['init', '-q', '-b', 'main', author], { env: gitEnv });
  git(author, 'remote', 'add', 'origin', origin);
  url = pathToFileURL(origin).href;
}

/** A fresh step directory, as the agent makes one. */
function stepDir(): string {
  return mkdtempSync(join(root, 'step-'));
}

/** Runs the script of `spec` in `workdir` the way the agent does; returns status, output and properties. */
function checkout(workdir: string, spec: Partial<CheckoutScriptSpec>, patch?: Buffer) {
  const full: CheckoutScriptSpec = { repository: url, branch: 'main', revision: '', mode: 'incremental', shallow: false, ...spec };
  const command = checkoutCommand(full, patch);
  const dir = stepDir();
  for (const file of command.files ?? []) writeFileSync(join(dir, file.name), Buffer.from(file.data_base64, 'base64'));
  mkdirSync(workdir, { recursive: true });
  const result = spawnSync('/bin/sh', ['-c', command.run], { cwd: workdir, env: { ...gitEnv, SHEPHERD_STEP_DIR: dir }, encoding: 'utf8' });
  const propertiesFile = join(dir, 'properties');
  return {
    status: result.status,
    output: result.stdout + result.stderr,
    properties: existsSync(propertiesFile) ? readFileSync(propertiesFile, 'utf8') : null,
  };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shepherd-checkout-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('shellQuote', () => {
  it('gives one literal word for anything, and leaves plain words bare', () => {
    const values = ['plain-word_1.2/x', '', 'two words', "it's", '$HOME', '`id`', 'a\\b', '"q"', '*', 'x\ny', '-n', "'", "''", '\t', 'é'];
    const printed = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellCommand(values)}`], { encoding: 'utf8' });
    expect(printed.split('\0').slice(0, -1)).toEqual(values);
    expect(shellQuote('+refs/heads/main:refs/remotes/origin/main')).toBe('+refs/heads/main:refs/remotes/origin/main');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });
});

describe('checkout script', () => {
  beforeEach(() => makeRepos());

  it('clones the branch head into a fresh directory, showing each git command', () => {
    commit({ 'a.txt': 'one\n' }, 'first');
    const head = commit({ 'a.txt': 'two\n' }, 'second');
    const work = join(root, 'work');
    const result = checkout(work, {});
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('two\n');
    expect(git(work, 'rev-parse', 'HEAD')).toBe(head);
    expect(result.properties).toBe(`got_revision=${head}\n`);
    expect(result.output).toContain('$ git init --quiet\n');
    expect(result.output).toContain(`$ git remote add origin ${url}\n`);
    expect(result.output).toContain('$ git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main\n');
    expect(result.output).toContain('$ git -c advice.detachedHead=false checkout --force --detach refs/remotes/origin/main\n');
    expect(result.output).toContain('HEAD is now at');

    // Again in the same directory: the clone is reused, the URL set.
    const again = checkout(work, {});
    expect(again.status, again.output).toBe(0);
    expect(again.output).not.toContain('git init');
    expect(again.output).toContain(`$ git remote set-url origin ${url}\n`);
  });

  it('checks out an older revision, and clones into a directory holding only build products', () => {
    const first = commit({ 'a.txt': 'one\n' }, 'first');
    commit({ 'a.txt': 'two\n' }, 'second');
    const work = join(root, 'work');
    mkdirSync(work);
    writeFileSync(join(work, 'a.o'), 'object');
    const result = checkout(work, { revision: first });
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(work, 'a.o'), 'utf8')).toBe('object');
    expect(result.properties).toBe(`got_revision=${first}\n`);
  });

  it('incremental keeps untracked and ignored files but resets tracked ones; full removes them', () => {
    commit({ 'a.txt': 'one\n', '.gitignore': '*.o\n' });
    const work = join(root, 'work');
    expect(checkout(work, {}).status).toBe(0);
    writeFileSync(join(work, 'a.o'), 'object');
    writeFileSync(join(work, 'notes'), 'untracked');
    writeFileSync(join(work, 'a.txt'), 'edited by the build\n');

    const incremental = checkout(work, { mode: 'incremental' });
    expect(incremental.status, incremental.output).toBe(0);
    expect(existsSync(join(work, 'a.o'))).toBe(true);
    expect(existsSync(join(work, 'notes'))).toBe(true);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('one\n');

    writeFileSync(join(work, 'a.txt'), 'edited again\n');
    const full = checkout(work, { mode: 'full' });
    expect(full.status, full.output).toBe(0);
    expect(full.output).toContain('$ git clean -xffd --quiet\n');
    expect(existsSync(join(work, 'a.o'))).toBe(false);
    expect(existsSync(join(work, 'notes'))).toBe(false);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('one\n');
    expect(git(work, 'status', '--porcelain', '--ignored')).toBe('');
  });

  it('shallow fetches only the last commit, and an older revision by itself', () => {
    const first = commit({ 'a.txt': 'one\n' });
    commit({ 'a.txt': 'two\n' });
    const head = commit({ 'a.txt': 'three\n' });
    const work = join(root, 'work');
    const result = checkout(work, { shallow: true });
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('$ git fetch --no-tags --depth 1 origin +refs/heads/main:refs/remotes/origin/main\n');
    expect(git(work, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(result.properties).toBe(`got_revision=${head}\n`);

    const older = checkout(join(root, 'older'), { shallow: 2, revision: first });
    expect(older.status, older.output).toBe(0);
    expect(older.output).toContain(`$ git fetch --no-tags --depth 2 origin ${first}\n`);
    expect(git(join(root, 'older'), 'rev-parse', 'HEAD')).toBe(first);

    // A full checkout later deepens the shallow clone.
    const deep = checkout(work, { shallow: false });
    expect(deep.status, deep.output).toBe(0);
    expect(deep.output).toContain('--unshallow');
    expect(git(work, 'rev-list', '--count', 'HEAD')).toBe('3');
  });

  it('fetches a revision a force-push took off the branch', () => {
    const base = commit({ 'a.txt': 'one\n' });
    const lost = commit({ 'a.txt': 'lost\n' }, 'soon rewritten');
    git(author, 'reset', '-q', '--hard', base);
    commit({ 'a.txt': 'rewritten\n' }, 'rewritten');
    const work = join(root, 'work');
    const result = checkout(work, { revision: lost });
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`$ git fetch --no-tags origin ${lost}\n`);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('lost\n');
    expect(result.properties).toBe(`got_revision=${lost}\n`);
  });

  it('fails with a clear line for a revision or a branch the repository does not have', () => {
    commit({ 'a.txt': 'one\n' });
    const missing = checkout(join(root, 'w1'), { revision: 'f'.repeat(40) });
    expect(missing.status).toBe(1);
    expect(missing.output).toContain(`[shepherd] cannot fetch revision ${'f'.repeat(40)} from ${url}\n`);
    const branch = checkout(join(root, 'w2'), { branch: 'nope' });
    expect(branch.status).toBe(1);
    expect(branch.output).toContain(`[shepherd] cannot fetch branch nope from ${url}\n`);
  });

  it('applies a try patch, binary changes included, on top of the revision it records', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255, 0]);
    const base = commit({ 'a.txt': 'one\n', 'logo.png': png });
    // The patch, as `git diff --binary` makes it.
    writeFileSync(join(author, 'a.txt'), 'patched\n');
    writeFileSync(join(author, 'logo.png'), Buffer.from([0, 9, 8, 7, 0xff, 0]));
    writeFileSync(join(author, 'new.c'), 'int main;\n');
    git(author, 'add', '-A');
    const patch = execFileSync('git', ['diff', '--cached', '--binary'], { cwd: author, env: gitEnv });
    git(author, 'reset', '-q', '--hard');

    const work = join(root, 'work');
    const result = checkout(work, {}, patch);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('$ git apply --index "$SHEPHERD_STEP_DIR"/try.patch\n');
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('patched\n');
    expect(readFileSync(join(work, 'logo.png'))).toEqual(Buffer.from([0, 9, 8, 7, 0xff, 0]));
    expect(readFileSync(join(work, 'new.c'), 'utf8')).toBe('int main;\n');
    expect(result.properties).toBe(`got_revision=${base}\n`);

    // The next build without a patch gets the clean revision back, even incrementally.
    const next = checkout(work, { mode: 'incremental' });
    expect(next.status, next.output).toBe(0);
    expect(readFileSync(join(work, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(work, 'logo.png'))).toEqual(png);
    expect(existsSync(join(work, 'new.c'))).toBe(false);
  });

  it('fails the step with git\'s message and one clear line when the patch does not apply', () => {
    const base = commit({ 'a.txt': 'one\ntwo\nthree\n' });
    const patch = Buffer.from(['--- a/a.txt', '+++ b/a.txt', '@@ -1,3 +1,3 @@', ' one', '-TWO', '+2', ' three', ''].join('\n'));
    const result = checkout(join(root, 'work'), {}, patch);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/error: patch failed: a\.txt:1/);
    expect(result.output).toMatch(/error: a\.txt: patch does not apply/);
    expect(result.output.trimEnd().split('\n').at(-1)).toBe(`[shepherd] the try patch does not apply to ${base}`);
    expect(result.properties).toBe(`got_revision=${base}\n`);
  });

  it('says so when the patch file was not delivered', () => {
    commit({ 'a.txt': 'one\n' });
    const result = checkout(join(root, 'work'), { patchFile: 'missing.patch' });
    expect(result.status).toBe(1);
    expect(result.output).toContain('[shepherd] the try patch missing.patch was not delivered to this step');
  });

  it('removes the index lock an interrupted checkout left', () => {
    commit({ 'a.txt': 'one\n' });
    const work = join(root, 'work');
    expect(checkout(work, {}).status).toBe(0);
    writeFileSync(join(work, '.git', 'index.lock'), '');
    const result = checkout(work, {});
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('[shepherd] removing .git/index.lock');
  });
});

describe('checkout script quoting', () => {
  it("checks out a repository whose path holds spaces, quotes and a '$'", () => {
    makeRepos(`my repo 'q' "dq" $HOME \`x\`.git`);
    const head = commit({ 'a.txt': 'one\n' });
    url = origin; // a plain path: the characters reach git as they are
    const work = join(root, 'work dir $x');
    const result = checkout(work, {});
    expect(result.status, result.output).toBe(0);
    expect(result.properties).toBe(`got_revision=${head}\n`);
    expect(result.output).toContain(`$ git remote add origin ${shellQuote(origin)}\n`);
    expect(git(work, 'remote', 'get-url', 'origin')).toBe(origin);
  });

  it('refuses names git would read as options, without running anything', () => {
    makeRepos();
    commit({ 'a.txt': 'one\n' });
    const work = join(root, 'work');
    for (const [spec, why] of [
      [{ branch: '--upload-pack=touch pwned' }, 'branch "--upload-pack=touch pwned" is not a valid branch name'],
      [{ revision: '-x' }, 'revision "-x" is not a commit id'],
      [{ repository: '--upload-pack=x' }, 'repository "--upload-pack=x" starts with "-"'],
      [{ repository: 'a\nb' }, 'repository "a\\nb" is empty or holds control characters'],
      [{ patchFile: '../x' }, 'patch file name "../x" is not a plain file name'],
    ] as const) {
      const result = checkout(work, spec);
      expect(result.status).toBe(1);
      expect(result.output).toBe(`[shepherd] cannot check out: ${why}\n`);
    }
    expect(existsSync(join(work, '.git'))).toBe(false);
  });

  it('checkoutCommand sends the patch as a file of the step', () => {
    const spec: CheckoutScriptSpec = { repository: 'r', branch: 'main', revision: '', mode: 'full', shallow: false };
    expect(checkoutCommand(spec)).toEqual({ run: checkoutScript(spec) });
    const withPatch = checkoutCommand({ ...spec, patchFile: 'x.diff' }, Buffer.from('diff'));
    expect(withPatch.files).toEqual([{ name: 'x.diff', data_base64: Buffer.from('diff').toString('base64') }]);
    expect(withPatch.run).toContain('"$SHEPHERD_STEP_DIR"/x.diff');
  });
});
