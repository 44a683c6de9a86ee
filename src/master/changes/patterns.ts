/**
 * Branch patterns and path globs, as written in the config: one meaning
 * everywhere (pollers, webhooks, schedulers).
 *
 * - A branch pattern is a name or a glob: `main`, `3.*`, `release/*`.
 *   `*` matches any run of characters, `/` included, so `release/*` also
 *   takes `release/3.13/rc`.
 * - A path glob follows gitignore habits: `Doc/**` is everything under Doc,
 *   `*` stays within one path segment, and a glob without a `/` (`*.md`)
 *   matches the file's name in any directory.
 */
import picomatch from 'picomatch';

/** A compiled set of patterns; true when any matches. */
export type Matcher = (value: string) => boolean;

/** Compiles branch patterns (names or globs). An empty list matches nothing. */
export function branchMatcher(patterns: readonly string[]): Matcher {
  const regexes = patterns.map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  return (branch) => regexes.some((re) => re.test(branch));
}

/** Compiles path globs. An empty list matches nothing. */
export function pathMatcher(globs: readonly string[]): Matcher {
  const matchers = globs.map((glob) => picomatch(glob, { dot: true, basename: !glob.includes('/') }));
  return (path) => matchers.some((m) => m(path));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
