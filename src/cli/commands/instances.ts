/**
 * `shepherd instances`: the on-demand instances the pools started, running
 * and stopped: when each started, connected and stopped, how long it ran,
 * its builds and cost, and why it stopped or failed.
 */
import type { Command } from 'commander';
import { parseDays } from '../arguments.js';
import { listInstances } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { formatInstances } from '../latent-table.js';
import { printJson, writeStdout } from '../output.js';

interface InstancesFlags extends ClientFlags {
  pool?: string;
  alive?: boolean;
  days?: number;
}

/** Registers `instances`. */
export function registerInstancesCommand(program: Command): void {
  withClientOptions(
    program
      .command('instances')
      .description('list on-demand instances with their life, builds, cost and why they stopped')
      .option('--pool <name>', 'only this pool')
      .option('--alive', 'only instances not stopped yet')
      .option('--days <n>', 'instances that ran in the last N days (default 31)', parseDays),
  ).action(async function instances(flags: InstancesFlags) {
    const list = await listInstances(connectionFrom(flags), {
      ...(flags.pool !== undefined ? { pool: flags.pool } : {}),
      ...(flags.alive ? { alive: true } : {}),
      ...(flags.days !== undefined ? { days: flags.days } : {}),
    });
    await (flags.json ? printJson({ instances: list }) : writeStdout(formatInstances(list, Date.now())));
  });
}
