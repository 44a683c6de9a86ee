/**
 * `shepherd changes`: the commits the master has seen, newest first, with
 * the builds each one is part of.
 */
import type { Command } from 'commander';
import { parseId, parseLimit } from '../arguments.js';
import { formatChangesTable } from '../change-table.js';
import { listChanges } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { note, printJson, writeStdout } from '../output.js';

interface ChangesFlags extends ClientFlags {
  source?: string;
  branch?: string;
  limit: number;
  before?: number;
}

/** Registers `changes`. */
export function registerChangesCommand(program: Command): void {
  withClientOptions(
    program
      .command('changes')
      .description('list recent changes (commits), newest first, with their builds')
      .option('--source <name>', 'only this change source (config `changes[].name`)')
      .option('--branch <name>', 'only this branch')
      .option('-n, --limit <n>', 'how many (1-500)', parseLimit, 20)
      .option('--before <id>', "changes older than this id (the previous page's `next`)", parseId),
  ).action(async function changes(flags: ChangesFlags) {
    const page = await listChanges(connectionFrom(flags), {
      source: flags.source,
      branch: flags.branch,
      limit: flags.limit,
      before: flags.before,
    });
    if (flags.json) return printJson(page);
    if (page.changes.length === 0) return note('no changes match');
    await writeStdout(formatChangesTable(page.changes));
    if (page.next !== null) note(`more: --before ${page.next}`);
  });
}
