/**
 * `shepherd schedulers`: what queues builds on the master, and the
 * parameters each force scheduler takes (`force BUILDER --scheduler NAME --param ...`).
 */
import type { Command } from 'commander';
import { listSchedulers } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { note, printJson, writeStdout } from '../output.js';
import { formatSchedulersTable } from '../scheduler-table.js';

/** Registers `schedulers`. */
export function registerSchedulersCommand(program: Command): void {
  withClientOptions(
    program.command('schedulers').description('list schedulers: their kind, builders and force parameters'),
  ).action(async function schedulers(flags: ClientFlags) {
    const list = await listSchedulers(connectionFrom(flags));
    if (flags.json) return printJson({ schedulers: list });
    if (list.length === 0) return note('no schedulers are configured');
    await writeStdout(formatSchedulersTable(list));
  });
}
