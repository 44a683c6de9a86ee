/**
 * Real git repositories for tests: a bare "origin" and a working clone to
 * commit and push from, in a fresh temporary directory. Commit times are
 * fixed by the test, so changes can be compared exactly.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Who commits in tests (the committer; authors can differ per commit). */
export const TEST_COMMITTER = { name: 'Carla Committer', email: 'carla@example.org' };

/** What a commit changes: path → new content, or null to delete it. */
export type FileEdits = Record<string, string | null>;

/** A bare origin plus a working clone. */
export class TestRepo {
  /** Epoch seconds of the next commit; each commit advances it by a minute. */
  #time = 1_700_000_000;

  private constructor(
    /** The temporary directory holding both. */
    readonly dir: string,
    /** The bare repository: what a change source's `git` points at. */
    readonly origin: string,
    /** The working clone commits are made in. */
    readonly work: string,
  ) {}

  /** Creates an empty origin (default branch main) and a clone of it. */
  static async create(): Promise<TestRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-git-'));
    const origin = join(dir, 'origin.git');
    const work = join(dir, 'work');
    await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
    await git(dir, 'init', '--quiet', '--initial-branch=main', work);
    await git(work, 'remote', 'add', 'origin', origin);
    await git(work, 'config', 'user.name', TEST_COMMITTER.name);
    await git(work, 'config', 'user.email', TEST_COMMITTER.email);
    await git(work, 'config', 'commit.gpgsign', 'false');
    return new TestRepo(dir, origin, work);
  }

  /** Runs git in the working clone; resolves with its trimmed stdout. */
  async git(...args: string[]): Promise<string> {
    return git(this.work, ...args);
  }

  /** Applies the edits and commits them (author default: the committer); returns the revision. */
  async commit(message: string, edits: FileEdits, options: { author?: string } = {}): Promise<string> {
    for (const [path, content] of Object.entries(edits)) {
      const file = join(this.work, path);
      if (content === null) {
        await rm(file);
      } else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, content);
      }
    }
    await this.git('add', '--all');
    const date = `${this.#time} +0000`;
    this.#time += 60;
    const author = options.author ?? `${TEST_COMMITTER.name} <${TEST_COMMITTER.email}>`;
    await git(this.work, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, 'commit', '--quiet', '--allow-empty', `--author=${author}`, '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** The commit time the next commit gets, in epoch ms. */
  get nextCommitTime(): number {
    return this.#time * 1000;
  }

  /** Pushes a branch (default: the current one) to origin, forced if asked. */
  async push(branch?: string, options: { force?: boolean } = {}): Promise<void> {
    const name = branch ?? (await this.git('rev-parse', '--abbrev-ref', 'HEAD'));
    await this.git('push', '--quiet', ...(options.force ? ['--force'] : []), 'origin', `${name}:refs/heads/${name}`);
  }

  /** Switches to a branch, creating it at `from` (default: the current commit) if asked. */
  async checkout(branch: string, options: { create?: boolean; from?: string } = {}): Promise<void> {
    if (options.create) await this.git('checkout', '--quiet', '-b', branch, ...(options.from ? [options.from] : []));
    else await this.git('checkout', '--quiet', branch);
  }

  /** Deletes a branch on origin. */
  async deleteRemoteBranch(branch: string): Promise<void> {
    await this.git('push', '--quiet', 'origin', `:refs/heads/${branch}`);
  }

  /** Deletes both repositories. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function git(cwd: string, ...rest: (string | Record<string, string>)[]): Promise<string> {
  const env = typeof rest[0] === 'object' ? (rest.shift() as Record<string, string>) : {};
  const args = rest as string[];
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
  });
  return stdout.trim();
}
