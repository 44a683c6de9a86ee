/**
 * `shepherd cancel BUILD`: cancel a running build (or, with --request, a
 * queued build request).
 */
import type { Command } from 'commander';
import { parseId } from '../arguments.js';
import { cancelBuild, cancelRequest } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { printJson, writeStdout } from '../output.js';

interface CancelFlags extends ClientFlags {
  request?: boolean;
  reason?: string;
}

/** Registers `cancel`. */
export function registerCancelCommand(program: Command): void {
  withClientOptions(
    program
      .command('cancel')
      .description('cancel a running build (or a queued request with --request)')
      .argument('<id>', 'build id (request id with --request)', parseId)
      .option('--request', 'ID is a queued build request, not a build')
      .option('--reason <text>', 'why, recorded with the build'),
  ).action(async function cancel(id: number, flags: CancelFlags) {
    const conn = connectionFrom(flags);
    if (flags.request) {
      const request = await cancelRequest(conn, id);
      return flags.json ? printJson({ request }) : writeStdout(`request ${id} cancelled\n`);
    }
    const answer = await cancelBuild(conn, id, flags.reason);
    return flags.json ? printJson(answer) : writeStdout(`build ${id}: cancel requested\n`);
  });
}
