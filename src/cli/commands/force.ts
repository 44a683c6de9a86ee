/**
 * `shepherd force BUILDER`: queue a build request and print its build once a
 * worker has taken it; with --wait, follow it to its final build and exit 0
 * only if that build succeeded; with --queued, print the request at once.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { collectProperty, parseInteger } from '../arguments.js';
import { formatBuildSummary } from '../build-table.js';
import { forceBuild } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { EXIT, type CliContext } from '../errors.js';
import { exitStatusForResult } from '../exit-status.js';
import { note, printJson, writeStdout } from '../output.js';
import { subscribeForWait, waitForRequest } from '../wait-for-request.js';
import { waitForStart } from '../wait-for-start.js';

interface ForceFlags extends ClientFlags {
  prop?: Record<string, string>;
  reason?: string;
  priority?: number;
  wait?: boolean;
  queued?: boolean;
}

function whoAmI(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
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
      .option('--queued', 'print the request as soon as it is queued, without waiting for a worker to take it'),
  ).action(async function force(builder: string, flags: ForceFlags) {
    const conn = connectionFrom(flags);
    // Subscribe before queueing, so not even a fast build's events are missed.
    const subscription = flags.wait ? await subscribeForWait(conn) : undefined;
    let request;
    try {
      const submittedBy = whoAmI();
      request = await forceBuild(conn, builder, {
        properties: flags.prop ?? {},
        ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
        ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
        ...(submittedBy ? { submitted_by: submittedBy } : {}),
      });
    } catch (error) {
      subscription?.close();
      throw error;
    }
    if (flags.queued) {
      await (flags.json ? printJson(request) : writeStdout(`${request.id}\n`));
      return;
    }
    if (!flags.wait) {
      const started = await waitForStart(conn, request.id, note);
      if (started.kind === 'cancelled') {
        note(`request ${request.id} was cancelled before it started`);
        if (flags.json) await printJson(started.request);
        context.exitCode = EXIT.failure;
        return;
      }
      const { build } = started;
      note(`build ${build.builder} #${build.number} started on ${build.worker}`);
      await (flags.json ? printJson(build) : writeStdout(`${build.id}\n`));
      return;
    }
    note(`request ${request.id} queued for ${builder}`);
    const outcome = await waitForRequest(conn, request.id, { subscription, progress: note });
    if (outcome.kind === 'cancelled') {
      if (flags.json) await printJson(outcome.request);
      context.exitCode = EXIT.failure;
      return;
    }
    await (flags.json ? printJson(outcome.build) : writeStdout(formatBuildSummary(outcome.build, Date.now())));
    context.exitCode = exitStatusForResult(outcome.build.result);
  });
}
