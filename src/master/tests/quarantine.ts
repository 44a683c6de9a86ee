/**
 * Quarantine: known-flaky tests whose failures do not turn a step red. An
 * entry names a test or a glob (`*` matches any run of characters, `?` one
 * character: test names hold dots, slashes and colons, so `*` crosses them
 * all) and optionally the builders it applies to.
 */

/** A quarantine entry, from the config (master's or a builder's) or the API. */
export interface QuarantineEntry {
  test: string;
  /** Only on these builders (absent or null: every builder). */
  builders?: readonly string[] | null;
  reason: string;
  /** Where it comes from, for people reading why a failure was ignored. */
  source?: 'config' | 'api';
  /** The API entry's id. */
  id?: number;
}

const compiled = new Map<string, RegExp>();

/** Whether a test name matches an entry's name or glob. */
export function testMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    compiled.set(pattern, re);
  }
  return re.test(name);
}

/** The first entry quarantining `testName` on `builder`, or undefined. */
export function quarantined(testName: string, builder: string, entries: readonly QuarantineEntry[]): QuarantineEntry | undefined {
  return entries.find((entry) => (!entry.builders || entry.builders.includes(builder)) && testMatches(entry.test, testName));
}
