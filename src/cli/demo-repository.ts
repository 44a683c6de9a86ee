/**
 * The demo farm's git repository: a bare repository the master polls, and a
 * clone next to it where people commit and push (or run `shepherd try`).
 * Made once from examples/hello-c; what people commit survives restarts.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

/** The change source the demo's builders check out and its schedulers follow. */
export const DEMO_SOURCE = 'hello-c';
/** The branch the demo repository is seeded on and the master follows. */
export const DEMO_BRANCH = 'main';
/** Who makes the demo repository's first commit (also the clone's identity when git has none). */
export const DEMO_AUTHOR = { name: 'Shepherd Demo', email: 'demo@example.org' } as const;

/** Files `./configure && make` leave in examples/hello-c; they are not copied into the repository. */
const BUILD_PRODUCTS = new Set(['config.mk', 'hello', 'test_hello']);

/** The demo's git repository: the bare one the master polls and the clone people commit in. */
export interface DemoRepository {
  /** `DIR/hello-c.git`: the change source's `git`. */
  bare: string;
  /** `DIR/hello-c`: a clone of it, on branch main, tracking origin/main. */
  clone: string;
  /** Whether this call made them (false: kept from an earlier run). */
  created: boolean;
}

/** Variables that would point git at some other repository than the one in its working directory. */
const GIT_LOCATION_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_NAMESPACE', 'GIT_COMMON_DIR'];

const execFileAsync = promisify(execFile);

/**
 * Runs `git ARGS...` in `cwd` (an argument array, never a shell) and resolves
 * with its trimmed stdout. The demo identity is set through the environment,
 * so a machine without `user.name` can commit.
 */
async function git(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const gitEnv: NodeJS.ProcessEnv = {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: DEMO_AUTHOR.name,
    GIT_AUTHOR_EMAIL: DEMO_AUTHOR.email,
    GIT_COMMITTER_NAME: DEMO_AUTHOR.name,
    GIT_COMMITTER_EMAIL: DEMO_AUTHOR.email,
  };
  for (const name of GIT_LOCATION_ENV) delete gitEnv[name];
  try {
    const { stdout } = await execFileAsync('git', [...args], { cwd, env: gitEnv, encoding: 'utf8' });
    return stdout.trim();
  } catch (error) {
    const { stderr, code } = error as { stderr?: string; code?: unknown };
    const why = code === 'ENOENT' ? 'git is not installed (or not on PATH)' : (stderr ?? '').trim() || (error as Error).message;
    throw new Error(`shepherd demo: git ${args.join(' ')} (in ${cwd}) failed: ${why}`, { cause: error });
  }
}

/** Whether `git ARGS...` in `cwd` exits 0 (for questions such as "is this set?"). */
async function gitSucceeds(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return git(cwd, args, env).then(
    () => true,
    () => false,
  );
}

/**
 * Makes `DIR/hello-c.git` and its clone `DIR/hello-c`, seeded with
 * examples/hello-c as one commit on main, unless they exist: what people
 * committed in an earlier run is kept. Both are built in a temporary
 * directory and renamed into place, so an interrupted first run leaves
 * nothing half made behind.
 */
export async function ensureDemoRepository(options: {
  dir: string;
  exampleDir: string;
  /** The environment git runs in (default: this process's). */
  env?: NodeJS.ProcessEnv;
}): Promise<DemoRepository> {
  const env = options.env ?? process.env;
  const bare = join(options.dir, `${DEMO_SOURCE}.git`);
  const clone = join(options.dir, DEMO_SOURCE);
  const haveBare = existsSync(bare);
  const haveClone = existsSync(clone);
  if (haveBare && haveClone) return { bare, clone, created: false };
  if (!haveBare && haveClone) {
    throw new Error(
      `shepherd demo: ${clone} exists but ${bare}, the repository it pushes to, does not; restore it, or remove ${clone} to start afresh`,
    );
  }

  mkdirSync(options.dir, { recursive: true });
  const scratch = mkdtempSync(join(options.dir, `.${DEMO_SOURCE}-`));
  try {
    const newBare = join(scratch, basename(bare));
    const newClone = join(scratch, basename(clone));
    if (!haveBare) {
      await git(scratch, ['init', '--quiet', '--bare', newBare], env);
      // Clones then check out main whatever init.defaultBranch says.
      await git(newBare, ['symbolic-ref', 'HEAD', `refs/heads/${DEMO_BRANCH}`], env);
    }
    // Cloning an empty repository only warns; the first commit follows.
    await git(scratch, ['clone', '--quiet', haveBare ? bare : newBare, newClone], env);
    if (!(await gitSucceeds(newClone, ['rev-parse', '--verify', '--quiet', 'HEAD'], env))) {
      await seedClone(newClone, options.exampleDir, env);
    }
    // Commits made in the clone later need an identity too; the user's own wins when git has one.
    const hasIdentity =
      (await gitSucceeds(newClone, ['config', '--get', 'user.name'], env)) &&
      (await gitSucceeds(newClone, ['config', '--get', 'user.email'], env));
    if (!hasIdentity) {
      await git(newClone, ['config', 'user.name', DEMO_AUTHOR.name], env);
      await git(newClone, ['config', 'user.email', DEMO_AUTHOR.email], env);
    }
    if (!haveBare) {
      await git(newClone, ['remote', 'set-url', 'origin', bare], env);
      renameSync(newBare, bare);
    }
    renameSync(newClone, clone);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { bare, clone, created: true };
}

/** The first commit: examples/hello-c (without build products) on main, pushed with main tracking origin/main. */
async function seedClone(clone: string, exampleDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  await git(clone, ['symbolic-ref', 'HEAD', `refs/heads/${DEMO_BRANCH}`], env);
  cpSync(exampleDir, clone, {
    recursive: true,
    filter: (source) => {
      const name = basename(source);
      return !BUILD_PRODUCTS.has(name) && !name.endsWith('.o');
    },
  });
  await git(clone, ['add', '--all'], env);
  // A user's signing or hook setup has no business with the demo's own commit.
  await git(
    clone,
    ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', 'hello-c: a greeting library, a program and its tests'],
    env,
  );
  await git(clone, ['push', '--quiet', '--set-upstream', 'origin', DEMO_BRANCH], env);
}
