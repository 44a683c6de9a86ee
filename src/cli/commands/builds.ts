/**
 * `shepherd builds`: recent builds, newest first; `shepherd builds ID`: one
 * build with its steps, revision and blamelist.
 */
import { Option, type Command } from 'commander';
import { RESULTS } from '../../master/domain.js';
import { parseId, parseLimit } from '../arguments.js';
import { formatBuildsTable, formatBuildSummary } from '../build-table.js';
import { getBuild, listBuilds } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { usageError } from '../errors.js';
import { note, printJson, writeStdout } from '../output.js';

interface BuildsFlags extends ClientFlags {
  builder?: string;
  result?: string;
  state?: string;
  worker?: string;
  limit: number;
  before?: number;
}

/** Registers `builds`. */
export function registerBuildsCommand(program: Command): void {
  withClientOptions(
    program
      .command('builds')
      .description('list recent builds, newest first, or show one build (ID)')
      .argument('[id]', 'show only this build: its steps, revision and the changes it is the first to build', parseId)
      .option('--builder <name>', 'only this builder')
      .addOption(new Option('--result <result>', 'only this result').choices(RESULTS))
      .addOption(new Option('--state <state>', 'only running or finished builds').choices(['running', 'finished']))
      .option('--worker <name>', 'only builds on this worker')
      .option('-n, --limit <n>', 'how many (1-500)', parseLimit, 20)
      .option('--before <id>', 'builds older than this id (the previous page\'s `next`)', parseId),
  ).action(async function builds(id: number | undefined, flags: BuildsFlags) {
    if (id !== undefined) {
      const filters = (['builder', 'result', 'state', 'worker', 'before'] as const).filter((f) => flags[f] !== undefined);
      if (filters.length > 0) throw usageError(`--${filters[0]} lists builds; it cannot be used with a build ID`);
      const build = await getBuild(connectionFrom(flags), id);
      return flags.json ? printJson(build) : writeStdout(formatBuildSummary(build, Date.now()));
    }
    const page = await listBuilds(connectionFrom(flags), {
      builder: flags.builder,
      result: flags.result,
      state: flags.state,
      worker: flags.worker,
      limit: flags.limit,
      before: flags.before,
    });
    if (flags.json) return printJson(page);
    if (page.builds.length === 0) return note('no builds match');
    await writeStdout(formatBuildsTable(page.builds, Date.now()));
    if (page.next !== null) note(`more: --before ${page.next}`);
  });
}
