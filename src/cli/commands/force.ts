/**
 * `shepherd force BUILDER`: queue a build request and print its build once a
 * worker has taken it; with --wait, follow it to its final build and exit 0
 * only if that build succeeded; with --queued, print the request at once.
 * With --scheduler, a force scheduler queues it, checking its typed --params.
 */
import type { Command } from 'commander';
import { collectParam, collectProperty, parseInteger } from '../arguments.js';
import { forceBuild, forceScheduler, type MasterConnection } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { CliError, usageError, type CliContext } from '../errors.js';
import { queueAndFollow } from '../follow-request.js';
import { whoAmI } from '../who-am-i.js';

interface ForceFlags extends ClientFlags {
  prop?: Record<string, string>;
  reason?: string;
  priority?: number;
  wait?: boolean;
  queued?: boolean;
  scheduler?: string;
  param?: Record<string, string>;
}

/** Flags that belong to one way of forcing only: a usage error names the mix-up. */
function checkFlags(flags: ForceFlags): void {
  if (flags.scheduler === undefined) {
    if (flags.param) throw usageError('--param needs --scheduler NAME: parameters belong to a force scheduler (see `shepherd schedulers`)');
    return;
  }
  if (flags.prop) throw usageError('--prop cannot be used with --scheduler: pass the scheduler\'s parameters with --param NAME=VALUE');
  if (flags.priority !== undefined) throw usageError('--priority cannot be used with --scheduler: the scheduler sets the priority');
}

/** Queues the request, directly or through a force scheduler. */
async function queue(conn: MasterConnection, builder: string, flags: ForceFlags) {
  const submittedBy = whoAmI();
  const common = {
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(submittedBy ? { submitted_by: submittedBy } : {}),
  };
  if (flags.scheduler === undefined) {
    return forceBuild(conn, builder, {
      properties: flags.prop ?? {},
      ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
      ...common,
    });
  }
  const requests = await forceScheduler(conn, flags.scheduler, { builders: [builder], params: flags.param ?? {}, ...common });
  const request = requests.find((r) => r.builder === builder) ?? requests[0];
  if (!request) throw new CliError(`scheduler "${flags.scheduler}" queued no build request for ${builder}`);
  return request;
}

/** Registers `force`. */
export function registerForceCommand(program: Command, context: CliContext): void {
  withClientOptions(
    program
      .command('force')
      .description('queue a build of BUILDER, print it once started; --wait follows it to its result')
      .argument('<builder>', 'builder name (see the master\'s /api/v1/builders)')
      .option('-p, --prop <key=value>', 'build property, repeatable', collectProperty)
      .option('--reason <text>', 'why, shown with the build')
      .option('--priority <n>', "higher runs first (default: the builder's)", parseInteger)
      .option('-w, --wait', 'wait for the build to finish, printing progress on stderr')
      .option('--queued', 'print the request as soon as it is queued, without waiting for a worker to take it')
      .option('--scheduler <name>', 'queue through this force scheduler (see `shepherd schedulers`)')
      .option('--param <name=value>', "a parameter of the --scheduler, repeatable; the master checks it against the parameter's type", collectParam),
  ).action(async function force(builder: string, flags: ForceFlags) {
    checkFlags(flags);
    const conn = connectionFrom(flags);
    await queueAndFollow(conn, flags, context, () => queue(conn, builder, flags), {
      queued: (request) => `request ${request.id} queued for ${builder}`,
    });
  });
}
