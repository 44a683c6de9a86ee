/**
 * `shepherd worker pause|resume|set-contact NAME`: what a worker's admin can
 * do with the worker's own secret, without the master's operator. A paused
 * worker takes no new builds (running ones finish) and raises no alerts.
 */
import { Option, type Command } from 'commander';
import { setWorkerAdmin } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { usageError } from '../errors.js';
import { note, printJson, writeStdout } from '../output.js';

interface AdminFlags extends ClientFlags {
  secretEnv?: string;
  reason?: string;
  contact?: string;
  notes?: string;
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

/** Registers `worker pause`, `worker resume` and `worker set-contact` under the `worker` command. */
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
}
