/**
 * `shepherd cost`: what the on-demand instances have cost this month (UTC),
 * per pool, against the monthly budget; the forecast; whether the budget
 * stops new starts; the pools backing off after failed starts.
 */
import type { Command } from 'commander';
import { getCost } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatCost } from '../latent-table.js';
import { printJson, writeStdout } from '../output.js';

/** Registers `cost`. */
export function registerCostCommand(program: Command): void {
  withClientOptions(
    program.command('cost').description("show this month's on-demand instance spend per pool against the budget, and the forecast"),
  ).action(async function cost(flags: ClientFlags) {
    const document = await getCost(connectionFrom(flags));
    await (flags.json ? printJson(document) : writeStdout(formatCost(document)));
  });
}
