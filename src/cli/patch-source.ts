/**
 * Where `shepherd try` gets its patch: by default the local checkout's
 * difference from its upstream (`git merge-base HEAD @{upstream}`, then
 * `git diff --binary BASE`, so uncommitted changes to tracked files count),
 * or a patch file (`--diff FILE`, `-` for stdin). Git runs as a binary with
 * argument arrays, never through a shell.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { CliError, usageError } from './errors.js';

/** The patch to upload and what it applies to. */
export interface TryPatch {
  diff: Buffer;
  /** Revision the patch applies on; '' means the branch head when the build starts. */
  baseRevision: string;
  /** The branch to build on, when known (else the master picks the source's default). */
  branch: string | undefined;
  /** Where the diff came from, for progress lines: `git diff 3f2a9c1d`, `fix.patch`, `stdin`. */
  origin: string;
}

/** What `try`'s flags say about the patch. */
export interface PatchSourceOptions {
  /** The checkout to diff (the current directory). */
  cwd: string;
  /** A patch file, or `-` for stdin; without it, the checkout's diff. */
  diff?: string | undefined;
  base?: string | undefined;
  branch?: string | undefined;
  /** Read for `--diff -` (default: process.stdin). */
  stdin?: AsyncIterable<Uint8Array | string>;
}

/** Patches can be large binary diffs; the master enforces its own limit. */
const MAX_GIT_OUTPUT = 512 * 1024 * 1024;

/** The failure of one git command, with what git said. */
class GitFailure extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    options: { cause: unknown },
  ) {
    super(`git ${args.join(' ')}: ${firstLine(stderr) || (options.cause as Error).message}`, options);
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '')
      ?.replace(/^(fatal|error): /, '') ?? ''
  );
}

/** Runs git in `cwd` and resolves with its stdout bytes. */
function git(cwd: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // LC_ALL=C: the messages are matched below, so they must be git's own.
    const env = { ...process.env, LC_ALL: 'C' };
    execFile('git', [...args], { cwd, env, encoding: 'buffer', maxBuffer: MAX_GIT_OUTPUT }, function gitDone(error, stdout, stderr) {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new CliError('git is not installed or not on PATH; pass --diff FILE (and --base REV)', { cause: error }));
      }
      reject(new GitFailure(args, stderr.toString(), { cause: error }));
    });
  });
}

/** git's one-line answer, or undefined when git says no (unset config, no such ref). */
async function gitLine(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return (await git(cwd, args)).toString().trim() || undefined;
  } catch (error) {
    if (error instanceof GitFailure) return undefined;
    throw error;
  }
}

/** The name of the upstream's branch on its remote (`origin/main` → `main`), when the current branch has one. */
export async function upstreamBranch(cwd: string): Promise<string | undefined> {
  // branch.<name>.merge is the ref on the remote, so remote names containing "/" do not matter.
  const head = await gitLine(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  if (!head) return undefined;
  const merge = await gitLine(cwd, ['config', '--get', `branch.${head}.merge`]);
  return merge?.replace(/^refs\/heads\//, '');
}

/** The commit the checkout forked from its upstream; a usage error, saying what to pass instead, when there is none. */
async function upstreamBase(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ['merge-base', 'HEAD', '@{upstream}'])).toString().trim();
  } catch (error) {
    if (!(error instanceof GitFailure)) throw error;
    if (/not a git repository/i.test(error.stderr)) {
      throw usageError(`${cwd} is not in a git checkout: run try in your checkout, or pass --diff FILE`);
    }
    throw usageError(
      `cannot find where this checkout forked from its upstream (${firstLine(error.stderr) || 'git merge-base failed'}); ` +
        'pass --base REV, or --diff FILE',
    );
  }
}

/** `--base` resolved to a full commit id, so the master can find it whatever the local ref names. */
async function resolveRevision(cwd: string, revision: string): Promise<string> {
  try {
    return (await git(cwd, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`])).toString().trim();
  } catch (error) {
    if (!(error instanceof GitFailure)) throw error;
    throw usageError(`--base: "${revision}" is not a commit in this checkout`);
  }
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The patch `try` uploads, from a file, stdin or the checkout; "nothing to try" when it is empty. */
export async function resolveTryPatch(options: PatchSourceOptions): Promise<TryPatch> {
  if (options.base?.startsWith('-')) throw usageError(`--base: expected a revision, got "${options.base}"`);
  if (options.diff !== undefined) {
    const fromStdin = options.diff === '-';
    let diff: Buffer;
    try {
      diff = fromStdin ? await readAll(options.stdin ?? process.stdin) : await readFile(options.diff);
    } catch (error) {
      throw new CliError(`--diff: cannot read ${options.diff}: ${(error as Error).message}`, { cause: error });
    }
    const origin = fromStdin ? 'stdin' : options.diff;
    if (diff.length === 0) throw new CliError(`nothing to try: ${origin} is empty`);
    // A patch file need not come from this checkout: the base is what --base says, or the branch head.
    return { diff, baseRevision: options.base ?? '', branch: options.branch, origin };
  }
  const base = options.base !== undefined ? await resolveRevision(options.cwd, options.base) : await upstreamBase(options.cwd);
  const diff = await git(options.cwd, [
    // The patch must be applicable elsewhere whatever the user's diff settings.
    '-c', 'diff.noprefix=false',
    '-c', 'diff.mnemonicprefix=false',
    'diff', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', base, '--',
  ]).catch((error: unknown) => {
    throw error instanceof GitFailure ? new CliError(`cannot diff the checkout: ${error.message}`, { cause: error }) : error;
  });
  const origin = `git diff ${base.slice(0, 8)}`;
  if (diff.length === 0) throw new CliError(`nothing to try: the checkout does not differ from ${base.slice(0, 8)}`);
  return { diff, baseRevision: base, branch: options.branch ?? (await upstreamBranch(options.cwd)), origin };
}

/** Who sends the patch: git's user.name and user.email ("Name <mail>"), else the login name. */
export async function gitAuthor(cwd: string): Promise<string | undefined> {
  const [name, email] = await Promise.all([
    gitLine(cwd, ['config', '--get', 'user.name']).catch(() => undefined),
    gitLine(cwd, ['config', '--get', 'user.email']).catch(() => undefined),
  ]);
  if (name && email) return `${name} <${email}>`;
  if (name || email) return name ?? `<${email}>`;
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}
