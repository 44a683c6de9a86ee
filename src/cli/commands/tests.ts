/**
 * `shepherd tests BUILD`: a build's tests as "3 failed of 4,126", then the
 * failed ones with their message's last lines (the assertion); `--all`
 * lists every test; `--json` prints the API's document (every page).
 */
import type { Command } from 'commander';
import type { BuildTestsJson, TestResultJson } from '../../master/api/schemas.js';
import { parseId } from '../arguments.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatDuration } from '../format.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';
import { getBuildTests } from '../client.js';

interface TestsFlags extends ClientFlags {
  all?: boolean;
}

/** Page size when reading every test of a build. */
const PAGE = 1000;

/** Registers `tests`. */
export function registerTestsCommand(program: Command): void {
  withClientOptions(
    program
      .command('tests')
      .description("show a build's test results: failures first, with their messages")
      .argument('<build>', 'build id', parseId)
      .option('--all', 'list every test, not only the failed ones'),
  ).action(async function tests(buildId: number, flags: TestsFlags) {
    const conn = connectionFrom(flags);
    const first = await getBuildTests(conn, buildId, { limit: PAGE, failures: !flags.all });
    const all = [...first.tests];
    for (let next = first.next_offset; next !== null; ) {
      const page = await getBuildTests(conn, buildId, { offset: next, limit: PAGE, failures: !flags.all });
      all.push(...page.tests);
      next = page.next_offset;
    }
    const document = { ...first, tests: all, next_offset: null };
    await (flags.json ? printJson(document) : writeStdout(formatBuildTests(document, flags.all ?? false)));
  });
}

/** The last lines of a message: where a traceback says what went wrong. */
function messageTail(message: string | null, lines = 3): string[] {
  if (!message) return [];
  return message.trimEnd().split('\n').slice(-lines);
}

function outcomeText(test: TestResultJson): string {
  const marks = [test.rerun ? 're-run' : '', test.flaky ? 'flaky' : '', test.quarantined ? 'quarantined' : ''].filter(Boolean);
  return marks.length > 0 ? `${test.result} (${marks.join(', ')})` : test.result;
}

/** A build's tests as people read them: the count line, then the failures (or every test) with their messages. */
export function formatBuildTests(document: BuildTestsJson, all: boolean): string {
  const { counts } = document;
  const extras = [
    counts.error > 0 ? `${counts.error} errors` : '',
    counts.skipped > 0 ? `${counts.skipped.toLocaleString('en-US')} skipped` : '',
    document.flaky > 0 ? `${document.flaky} flaky` : '',
    document.quarantined > 0 ? `${document.quarantined} quarantined` : '',
  ].filter(Boolean);
  const lines = [`build ${document.build_id}: ${document.summary}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}\n`];
  if (document.total === 0) return `build ${document.build_id}: no test results stored\n`;
  if (all) {
    lines.push(
      formatTable(
        ['result', 'test', 'time'],
        document.tests.map((t) => [outcomeText(t), t.name, t.duration_ms === null ? '-' : formatDuration(t.duration_ms)]),
      ),
    );
  }
  const failures = document.tests.filter((t) => t.result === 'failed' || t.result === 'error');
  for (const test of failures) {
    lines.push(`\n${outcomeText(test).toUpperCase()} ${test.name}\n`);
    for (const line of messageTail(test.message)) lines.push(`    ${line}\n`);
  }
  return lines.join('');
}
