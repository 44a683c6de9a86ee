/**
 * `shepherd workers`: every worker (the config file's and those approved
 * from applications) and what it is doing; `--retired`: the retired ones,
 * whose history stays.
 */
import type { Command } from 'commander';
import { listRetiredWorkers, listWorkers } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { printJson, writeStdout } from '../output.js';
import { formatRetiredTable, formatWorkersTable } from '../worker-table.js';

interface WorkersFlags extends ClientFlags {
  retired?: boolean;
}

/** Registers `workers`. */
export function registerWorkersCommand(program: Command): void {
  withClientOptions(
    program
      .command('workers')
      .description('list workers with their state and current builds')
      .option('--retired', 'list retired workers instead (their builds and history stay)'),
  ).action(async function workers(flags: WorkersFlags) {
    const conn = connectionFrom(flags);
    if (flags.retired) {
      const retired = await listRetiredWorkers(conn);
      await (flags.json ? printJson({ workers: retired }) : writeStdout(formatRetiredTable(retired, Date.now())));
      return;
    }
    const list = await listWorkers(conn);
    await (flags.json ? printJson({ workers: list }) : writeStdout(formatWorkersTable(list, Date.now())));
  });
}
