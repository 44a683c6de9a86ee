/**
 * How the `shepherd` command fails: one readable line on stderr
 * (`shepherd: <message> (<code>)`) and an exit status that scripts can test:
 * 0 success, 1 failure (the API refused, a build did not succeed, the master
 * is unreachable), 2 usage (bad flags or arguments).
 */

/** Exit statuses. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** What a command reports besides output: its exit status when it ran to completion (a failed build is not an exception). */
export interface CliContext {
  exitCode: number;
}

/** A failure the CLI reports as one line, with an optional catalogue code and an exit status. */
export class CliError extends Error {
  override name = 'CliError';
  readonly code: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { code?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.exitCode = options.exitCode ?? EXIT.failure;
  }
}

/** A CLI usage mistake (exit status 2). */
export function usageError(message: string): CliError {
  return new CliError(message, { exitCode: EXIT.usage });
}

/**
 * The stderr lines and exit status for anything a command threw: our
 * CliError, a ShepherdError from in-process work (config, master start-up),
 * or a bug.
 */
export function describeFailure(error: unknown): { lines: string[]; exitCode: number } {
  const exitCode = error instanceof CliError ? error.exitCode : EXIT.failure;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const suffix = typeof code === 'string' && code.startsWith('SHEPHERD_E_') ? ` (${code})` : '';
  // Several problems (a config file) keep one line each, each a complete sentence.
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) lines.push(error instanceof Error ? error.name : 'failed');
  return {
    lines: lines.map((line, i) => `shepherd: ${line}${i === lines.length - 1 ? suffix : ''}`),
    exitCode,
  };
}
