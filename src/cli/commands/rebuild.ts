/**
 * `shepherd rebuild BUILD`: build the same code again (revision, try patch,
 * changes) with extra properties (-p) or environment variables for every
 * step (-e), e.g. verbose mode. Prints the new build once started, like
 * `force`; --wait follows it to its result, --queued prints the request.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { collectProperty, parseId } from '../arguments.js';
import { rebuildBuild } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import type { CliContext } from '../errors.js';
import { queueAndFollow } from '../follow-request.js';
import { whoAmI } from '../who-am-i.js';

interface RebuildFlags extends ClientFlags {
  prop?: Record<string, string>;
  env?: Record<string, string>;
  reason?: string;
  wait?: boolean;
  queued?: boolean;
}

/** Collects repeated `--env NAME=VALUE`; names as a shell can export them, the value may contain `=`. */
export function collectEnv(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got "${text}"`);
  const name = text.slice(0, at).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new InvalidArgumentError(`"${name}" is not an environment variable name (letters, digits and "_", not starting with a digit)`);
  }
  return { ...previous, [name]: text.slice(at + 1) };
}

/** Registers `rebuild`. */
export function registerRebuildCommand(program: Command, context: CliContext): void {
  withClientOptions(
    program
      .command('rebuild')
      .description('build the same code as BUILD again, with extra properties or environment; print it once started')
      .argument('<build>', 'build id, as `shepherd builds` and `force --json` print it', parseId)
      .option('-p, --prop <name=value>', 'build property, over the original ones; repeatable', collectProperty)
      .option('-e, --env <name=value>', "environment variable for every step, over the step's own; repeatable", collectEnv)
      .option('--reason <text>', 'why, shown with the build')
      .option('-w, --wait', 'wait for the build to finish, printing progress on stderr')
      .option('--queued', 'print the request as soon as it is queued, without waiting for a worker to take it'),
  ).action(async function rebuild(buildId: number, flags: RebuildFlags) {
    const conn = connectionFrom(flags);
    const submittedBy = whoAmI();
    await queueAndFollow(
      conn,
      flags,
      context,
      () =>
        rebuildBuild(conn, buildId, {
          ...(flags.prop ? { properties: flags.prop } : {}),
          ...(flags.env ? { env: flags.env } : {}),
          ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
          ...(submittedBy ? { submitted_by: submittedBy } : {}),
        }),
      {
        started: (build) => `build ${build.builder} #${build.number} (rebuild of build ${buildId})`,
        queued: (request) => `request ${request.id} queued: rebuild of build ${buildId}`,
      },
    );
  });
}
