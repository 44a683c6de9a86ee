/**
 * Running the `git` binary: argument arrays (never a shell), no prompts, a
 * time limit, and failures that name the command and quote git's stderr.
 */
import { spawn } from 'node:child_process';
import { redactUrl } from './redact-url.js';

/** How long one git command may run before it is killed (a hung remote must not stall a poller forever). */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** A git command that failed: exit status or signal, and what git said on stderr. */
export class GitError extends Error {
  override name = 'GitError';

  constructor(
    message: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Options for one git command. */
export interface GitOptions {
  /** Written to git's stdin (then closed), e.g. revisions for `--stdin`. */
  input?: string;
  /** Kill git after this long (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * Runs `git ARGS...` and resolves with its stdout (UTF-8). Never prompts for
 * credentials: a repository that needs them fails at once instead of hanging.
 */
export function runGit(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const shown = `git ${args.map(redactUrl).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // A session of its own has no controlling terminal, so ssh (run by git)
      // cannot prompt for a passphrase or a host key either; it fails instead.
      // It is also a process group, so a timeout kills ssh along with git.
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // git may exit before reading all of stdin (bad arguments); that is reported by its exit status.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    child.on('error', function gitSpawnFailed(error) {
      clearTimeout(timer);
      reject(new GitError(`${shown} could not start: ${error.message}; is git installed and on PATH?`, args, null, '', { cause: error }));
    });
    child.on('close', function gitExited(code, signal) {
      clearTimeout(timer);
      const stderr = redactUrl(Buffer.concat(err).toString('utf8').trim());
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      const how = timedOut ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : signal ? `was killed by ${signal}` : `failed (exit ${code})`;
      reject(new GitError(`${shown} ${how}${stderr ? `: ${stderr}` : ''}`, args, code, stderr));
    });
  });
}
