/**
 * `shepherd worker pause|resume|set-contact|maintenance NAME`: what a
 * worker's admin can do with the worker's own secret, without the master's
 * operator. A paused worker takes no new builds (running ones finish) and
 * raises no alerts; nor does one inside a maintenance window. And `worker
 * retire NAME`, the operator's (API token): a registered worker stops
 * connecting, its history stays.
 */
import { Option, type Command } from 'commander';
import { collectWindow, type WindowText } from '../arguments.js';
import { retireWorker, setWorkerAdmin, setWorkerMaintenance } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { usageError } from '../errors.js';
import { formatTimestamp } from '../format.js';
import { note, printJson, writeStdout } from '../output.js';
import { whoAmI } from '../who-am-i.js';
import { formatMaintenance } from '../worker-table.js';

interface AdminFlags extends ClientFlags {
  secretEnv?: string;
  reason?: string;
  contact?: string;
  notes?: string;
  window?: WindowText[];
  clear?: boolean;
}

/** The credential: the worker's secret from `--secret-env` (default SHEPHERD_WORKER_SECRET), else the API token. */
function credential(flags: AdminFlags): string | undefined {
  const variable = flags.secretEnv ?? 'SHEPHERD_WORKER_SECRET';
  const secret = process.env[variable];
  if (flags.secretEnv && !secret) throw usageError(`--secret-env: environment variable ${variable} is not set`);
  return secret || flags.token || undefined;
}

function adminCommand(parent: Command, name: string, description: string): Command {
  return withClientOptions(
    parent
      .command(name)
      .description(description)
      .argument('<worker>', "the worker's name")
      .addOption(new Option('--secret-env <var>', "environment variable holding the worker's secret (default SHEPHERD_WORKER_SECRET); else --token is used")),
  );
}

async function run(worker: string, flags: AdminFlags, action: 'pause' | 'resume' | 'contact', body: Record<string, string>, done: string) {
  const conn = { ...connectionFrom(flags), token: credential(flags) };
  const view = await setWorkerAdmin(conn, worker, action, body);
  if (flags.json) await printJson(view);
  else {
    note(done);
    await writeStdout(`${view.name}: ${view.state}\n`);
  }
}

/** The windows `worker maintenance` sets: the --window list, or none with --clear (one of them, not both). */
export function maintenanceWindows(flags: { window?: WindowText[]; clear?: boolean }): WindowText[] {
  if (flags.clear && flags.window) throw usageError('maintenance: give --window or --clear, not both');
  if (!flags.clear && !flags.window) throw usageError('maintenance: give --window "CRON/DURATION" (repeatable) or --clear');
  return flags.window ?? [];
}

/** Registers `worker pause`, `resume`, `set-contact`, `maintenance` and `retire` under the `worker` command. */
export function registerWorkerAdminCommands(worker: Command): void {
  adminCommand(worker, 'pause', 'pause a worker (its admin): no new builds, no alerts, until resumed')
    .option('--reason <text>', 'why, shown with the worker')
    .action(async function pause(name: string, flags: AdminFlags) {
      await run(name, flags, 'pause', flags.reason ? { reason: flags.reason } : {}, `paused ${name}`);
    });
  adminCommand(worker, 'resume', 'resume a paused worker')
    .action(async function resume(name: string, flags: AdminFlags) {
      await run(name, flags, 'resume', {}, `resumed ${name}`);
    });
  adminCommand(worker, 'set-contact', "set a worker's admin contact and notes")
    .option('--contact <contact>', 'who runs the machine, "Name <mail>"')
    .option('--notes <text>', 'free text shown with the worker')
    .action(async function setContact(name: string, flags: AdminFlags) {
      if (!flags.contact && flags.notes === undefined) throw usageError('set-contact: give --contact or --notes');
      const body: Record<string, string> = {};
      if (flags.contact) body.contact = flags.contact;
      if (flags.notes !== undefined) body.notes = flags.notes;
      await run(name, flags, 'contact', body, `contact of ${name} updated`);
    });
  adminCommand(worker, 'maintenance', "replace the maintenance windows its admin set (no missing-worker alert inside one)")
    .option('--window <cron/duration>', 'a window: five-field cron in UTC, "/", how long ("0 2 * * 0/3h"); repeatable', collectWindow)
    .option('--clear', 'remove the windows its admin set (the config files\' stay)')
    .action(async function maintenance(name: string, flags: AdminFlags) {
      const windows = maintenanceWindows(flags);
      const conn = { ...connectionFrom(flags), token: credential(flags) };
      const view = await setWorkerMaintenance(conn, name, windows);
      if (flags.json) await printJson(view);
      else await writeStdout(formatMaintenance(view));
    });
  withClientOptions(
    worker
      .command('retire')
      .description('retire a worker approved from an application (API token): it can no longer connect; its builds and history stay')
      .argument('<worker>', "the worker's name"),
  ).action(async function retire(name: string, flags: ClientFlags) {
    const retired = await retireWorker(connectionFrom(flags), name, whoAmI() ?? 'operator');
    if (flags.json) await printJson(retired);
    else {
      const runs = `${retired.builds_run} build${retired.builds_run === 1 ? '' : 's'} run`;
      await writeStdout(`${retired.name}: retired at ${formatTimestamp(retired.retired_at)}; its history stays (${runs})\n`);
    }
  });
}
