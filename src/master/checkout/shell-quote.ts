/**
 * Quoting for POSIX sh, for the scripts the master writes and sends to
 * workers: every value that reaches a script passes through here, so a
 * repository path with a space, a quote or a `$` stays one literal word.
 */

// Characters no POSIX shell treats specially anywhere in a word.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One literal shell word for `value`: bare when that is unambiguous, else in
 * single quotes (inside which only `'` itself needs care). `value` must not
 * hold a NUL byte, which no shell argument can carry.
 */
export function shellQuote(value: string): string {
  if (SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A command line as it would be typed, each argument quoted: for running it and for showing it. */
export function shellCommand(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
