/**
 * `shepherd workers`: every configured worker and what it is doing.
 */
import type { Command } from 'commander';
import { listWorkers } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { printJson, writeStdout } from '../output.js';
import { formatWorkersTable } from '../worker-table.js';

/** Registers `workers`. */
export function registerWorkersCommand(program: Command): void {
  withClientOptions(program.command('workers').description('list workers with their state and current builds')).action(
    async function workers(flags: ClientFlags) {
      const list = await listWorkers(connectionFrom(flags));
      await (flags.json ? printJson({ workers: list }) : writeStdout(formatWorkersTable(list, Date.now())));
    },
  );
}
