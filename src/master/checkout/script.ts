/**
 * The `checkout` step as the worker runs it: a POSIX sh script, written here
 * on the master and run by the agent through `/bin/sh -c` in the step's
 * workdir, so the agent needs nothing but git and knows nothing of checkouts.
 *
 * The script prints every git command before running it (`$ git fetch ...`,
 * quoted so it can be pasted into a shell), merges its stderr into stdout so
 * those lines and git's messages stay in order, and says in one
 * `[shepherd] ...` line why it gave up when it does. It records the revision
 * it checked out as `got_revision` in `$SHEPHERD_STEP_DIR/properties`.
 */
import { redactUrl } from '../changes/redact-url.js';
import { shellCommand, shellQuote } from './shell-quote.js';

/** What to check out, and how; every field is quoted into the script, none is trusted. */
export interface CheckoutScriptSpec {
  /** Anything `git fetch` accepts: a URL or a path. */
  repository: string;
  branch: string;
  /** A commit (full sha) to build; '' builds the branch head. */
  revision: string;
  /** incremental keeps untracked and ignored files (build products); full removes them. */
  mode: 'incremental' | 'full';
  /** Fetch only the last commit (true) or the last N. */
  shallow: boolean | number;
  /** A try patch to apply: a file name in `$SHEPHERD_STEP_DIR`. */
  patchFile?: string;
}

/** The name the try patch gets in the step's directory when the caller names none. */
export const DEFAULT_PATCH_FILE = 'try.patch';

/** A step command's `run` and `files` (see the protocol's StepCommand). */
export interface CheckoutCommand {
  run: string;
  files?: { name: string; data_base64: string }[];
}

/**
 * The command of a checkout step: the script, plus the try patch as a file
 * the agent writes into the step's directory before starting it.
 */
export function checkoutCommand(spec: CheckoutScriptSpec, patch?: Buffer): CheckoutCommand {
  if (!patch) return { run: checkoutScript(spec) };
  const patchFile = spec.patchFile ?? DEFAULT_PATCH_FILE;
  return { run: checkoutScript({ ...spec, patchFile }), files: [{ name: patchFile, data_base64: patch.toString('base64') }] };
}

/**
 * The checkout script for `spec`. Never throws: a spec that cannot be checked
 * out safely (an option-like branch, a NUL byte) gives a script that prints
 * why and exits 1, so the reason lands in the step's log.
 */
export function checkoutScript(spec: CheckoutScriptSpec): string {
  const problem = specProblem(spec);
  if (problem) return [say(`cannot check out: ${problem}`), 'exit 1', ''].join('\n');

  const { repository, branch, revision, mode, patchFile } = spec;
  const depth = spec.shallow === false ? null : spec.shallow === true ? 1 : spec.shallow;
  const shown = redactUrl(repository);
  const depthArgs = depth === null ? [] : ['--depth', String(depth)];
  const tracking = `refs/remotes/origin/${branch}`;
  const lines: string[] = [
    `# Shepherd checkout of ${oneLine(branch)}${revision ? ` at ${oneLine(revision)}` : ''} from ${oneLine(shown)}`,
    // One stream: the command lines and git's messages stay in order.
    'exec 2>&1',
    // Inherited, these would point git at some other repository.
    'unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_NAMESPACE GIT_COMMON_DIR',
    // A repository that wants a password fails instead of waiting for one forever.
    'GIT_TERMINAL_PROMPT=0; export GIT_TERMINAL_PROMPT',
    `shepherd_fail() { printf '[shepherd] %s\\n' "$1"; exit 1; }`,
    // A checkout killed by a timeout leaves the lock, and every later git command would refuse to run.
    'if [ -f .git/index.lock ]; then',
    indent(say('removing .git/index.lock, left by an interrupted git command')),
    '  rm -f .git/index.lock',
    'fi',
    // `-d .git`, not rev-parse: a workdir inside some other work tree must get its own repository.
    'if [ ! -d .git ]; then',
    indent(run(['git', 'init', '--quiet'], 'cannot create a git repository here')),
    'fi',
    'if git remote get-url origin >/dev/null 2>&1; then',
    indent(run(['git', 'remote', 'set-url', 'origin', repository], 'cannot set the URL of origin')),
    'else',
    indent(run(['git', 'remote', 'add', 'origin', repository], 'cannot add the remote origin')),
    'fi',
  ];

  const fetchBranch = (extra: string[]) =>
    run(
      ['git', 'fetch', '--no-tags', ...extra, 'origin', `+refs/heads/${branch}:${tracking}`],
      `cannot fetch branch ${branch} from ${shown}`,
    );
  if (depth === null) {
    // An earlier shallow checkout left a truncated history; a full one wants all of it.
    lines.push('if [ -f .git/shallow ]; then', indent(fetchBranch(['--unshallow'])), 'else', indent(fetchBranch([])), 'fi');
  } else {
    lines.push(fetchBranch(depthArgs));
  }

  const checkout = (target: string) =>
    run(['git', '-c', 'advice.detachedHead=false', 'checkout', '--force', '--detach', target], `cannot check out ${target}`);
  if (revision) {
    // Not in what the branch fetch brought (an older commit beyond the depth,
    // or one a force-push took off the branch): fetch the commit itself.
    lines.push(
      `if git cat-file -e ${shellQuote(`${revision}^{commit}`)} 2>/dev/null; then`,
      indent(checkout(revision)),
      'else',
      indent(run(['git', 'fetch', '--no-tags', ...depthArgs, 'origin', revision], `cannot fetch revision ${revision} from ${shown}`)),
      indent(checkout('FETCH_HEAD')),
      'fi',
    );
  } else {
    lines.push(checkout(tracking));
  }
  if (mode === 'full') lines.push(run(['git', 'clean', '-xffd', '--quiet'], 'cannot remove untracked files'));

  lines.push(
    `shepherd_rev=$(git rev-parse --verify HEAD) || shepherd_fail 'cannot read the revision checked out'`,
    'if [ -n "${SHEPHERD_STEP_DIR:-}" ]; then',
    `  printf 'got_revision=%s\\n' "$shepherd_rev" >>"$SHEPHERD_STEP_DIR/properties" || shepherd_fail 'cannot record got_revision'`,
    'else',
    indent(say('SHEPHERD_STEP_DIR is not set (a worker agent older than the master?): got_revision is not recorded')),
    'fi',
  );

  if (patchFile) {
    const path = `"$SHEPHERD_STEP_DIR"/${shellQuote(patchFile)}`;
    lines.push(
      `if [ -z "\${SHEPHERD_STEP_DIR:-}" ] || [ ! -f ${path} ]; then`,
      `  shepherd_fail ${shellQuote(`the try patch ${patchFile} was not delivered to this step (is the worker agent older than the master?)`)}`,
      'fi',
      `if [ -s ${path} ]; then`,
      `  printf '%s\\n' ${shellQuote(`$ git apply --index "$SHEPHERD_STEP_DIR"/${shellQuote(patchFile)}`)}`,
      // git's own message says which hunk failed; the last line says what it means for the build.
      `  git apply --index ${path} || shepherd_fail "the try patch does not apply to $shepherd_rev"`,
      'else',
      indent(say('the try patch is empty: nothing to apply')),
      'fi',
    );
  }
  lines.push('exit 0', '');
  return lines.join('\n');
}

/** Why `spec` cannot be turned into a safe script, or null. */
function specProblem(spec: CheckoutScriptSpec): string | null {
  if (!spec.repository || /[\0-\x1f\x7f]/.test(spec.repository)) return `repository ${JSON.stringify(spec.repository)} is empty or holds control characters`;
  // Quoting keeps a value one word, but git would still read `-x` as an option.
  if (spec.repository.startsWith('-')) return `repository ${JSON.stringify(spec.repository)} starts with "-"`;
  if (!isRefName(spec.branch)) return `branch ${JSON.stringify(spec.branch)} is not a valid branch name`;
  if (spec.revision !== '' && !isRefName(spec.revision)) return `revision ${JSON.stringify(spec.revision)} is not a commit id`;
  if (typeof spec.shallow === 'number' && !(Number.isInteger(spec.shallow) && spec.shallow >= 1)) return `shallow ${spec.shallow} is not a positive whole number`;
  if (spec.patchFile !== undefined && (!/^[A-Za-z0-9._-]+$/.test(spec.patchFile) || /^\.\.?$/.test(spec.patchFile))) {
    return `patch file name ${JSON.stringify(spec.patchFile)} is not a plain file name`;
  }
  return null;
}

/** Roughly `git check-ref-format`: enough that a name is one harmless word that is not an option. */
function isRefName(name: string): boolean {
  return (
    name.length > 0 &&
    !/[\0-\x20\x7f~^:?*[\\]/.test(name) &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.includes('//') &&
    !/^[-/.]/.test(name) &&
    !/(\/|\.|\.lock)$/.test(name)
  );
}


/** Prints the command line (passwords hidden), then runs it; on failure prints `[shepherd] <failure>` and exits 1. */
function run(args: string[], failure: string): string {
  // A password in a repository URL stays out of the log.
  const display = args.map(redactUrl);
  return [`printf '%s\\n' ${shellQuote(`$ ${shellCommand(display)}`)}`, `${shellCommand(args)} || shepherd_fail ${shellQuote(failure)}`].join('\n');
}

/** A `[shepherd] ...` line printed by the script. */
function say(text: string): string {
  return `printf '%s\\n' ${shellQuote(`[shepherd] ${text}`)}`;
}

function indent(block: string): string {
  return block
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** Safe inside a `#` comment: no line breaks. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}
