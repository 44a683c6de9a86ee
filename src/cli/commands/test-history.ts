/**
 * `shepherd test-history TEST`: where and when a test ran, newest first
 * (build, builder, worker, platform, revision, result, flaky), and which
 * dimension separates the workers where it fails from those where it passes.
 */
import type { Command } from 'commander';
import type { TestHistoryJson } from '../../master/api/schemas.js';
import { parseLimit } from '../arguments.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatTimestamp, shortRevision } from '../format.js';
import { printJson, writeStdout } from '../output.js';
import { formatTable } from '../table.js';
import { getTestHistory } from '../client.js';

interface HistoryFlags extends ClientFlags {
  builder?: string;
  limit?: number;
}

/** Registers `test-history`. */
export function registerTestHistoryCommand(program: Command): void {
  withClientOptions(
    program
      .command('test-history')
      .description("show a test's runs across builders, workers and revisions, and which platforms fail it")
      .argument('<test>', "the test's full name, as `shepherd tests BUILD` shows it")
      .option('--builder <name>', 'only runs of this builder')
      .option('--limit <n>', 'how many runs (default 50)', parseLimit),
  ).action(async function testHistory(name: string, flags: HistoryFlags) {
    const history = await getTestHistory(connectionFrom(flags), name, { builder: flags.builder, limit: flags.limit });
    await (flags.json ? printJson(history) : writeStdout(formatTestHistory(history)));
  });
}

/** A test's history as people read it: a table of runs, then the separation sentence. */
export function formatTestHistory(history: TestHistoryJson): string {
  if (history.runs.length === 0) return `no runs of ${history.name} are stored (is the name complete? \`shepherd tests BUILD --all\` lists them)\n`;
  const lines = [
    `${history.name}\n`,
    formatTable(
      ['build', 'builder', 'worker', 'platform', 'revision', 'result', 'when'],
      history.runs.map((r) => [
        String(r.build_id),
        r.builder,
        r.worker,
        r.platform ?? '-',
        shortRevision(r.revision) || '-',
        [r.result, r.rerun ? 're-run' : '', r.flaky ? 'flaky' : '', r.quarantined ? 'quarantined' : ''].filter(Boolean).join(' '),
        formatTimestamp(r.at),
      ]),
    ),
  ];
  const s = history.separation;
  if (s) {
    const where = `at ${shortRevision(s.revision)}: failed on ${s.failing_workers.join(', ') || '-'}, passed on ${s.passing_workers.join(', ') || '-'}`;
    lines.push(s.sentence ? `\n${s.sentence} (${where})\n` : `\nno dimension separates the workers where it failed from those where it passed (${where})\n`);
  }
  return lines.join('');
}
