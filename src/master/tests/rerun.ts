/**
 * The `rerun_failed` command: the step's template with `{tests}` replaced by
 * the failed tests' names, each quoted for /bin/sh, separated by spaces
 * (`./python -m test -v {tests}` → `./python -m test -v 'test_os' 'test_socket'`).
 */
import { shellQuote } from '../checkout/shell-quote.js';

/** The re-run command for these failed tests (every `{tests}` replaced). */
export function rerunCommand(template: string, failedTests: readonly string[]): string {
  const words = failedTests.map(shellQuote).join(' ');
  return template.replace(/\{tests\}/g, () => words);
}
