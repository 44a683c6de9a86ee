/**
 * `shepherd approve SESSION --secret-env VAR`: the worker admin's
 * approval of a debug session that waits for it (the worker's `debug:
 * approval: true`). The token is HMAC-SHA256 of the session id keyed with
 * the worker's secret: the master relays it, only the worker can check it,
 * and the secret itself never leaves this machine. `shepherd debug-end`
 * ends any session on the admin's worker the same way.
 */
import type { Command } from 'commander';
import { approvalToken, endToken } from '../../worker/debug/approval.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { approveDebugSession, endDebugSession } from '../client.js';
import { usageError } from '../errors.js';
import { printJson, writeStdout } from '../output.js';

interface ApproveFlags extends ClientFlags {
  secretEnv: string;
  printToken?: boolean;
}

/** Registers `approve` (also `debug-approve`). */
export function registerDebugApproveCommand(program: Command): void {
  withClientOptions(
    program
      .command('approve')
      .alias('debug-approve')
      .description("approve a debug session waiting on your worker (the worker's admin, with the worker's secret)")
      .argument('<session>', 'the session id the worker logged (and the person asking was shown)')
      .requiredOption('--secret-env <var>', "environment variable holding the worker's secret")
      .option('--print-token', 'only print the approval token (to pass on another way)'),
  ).action(async function debugApprove(session: string, flags: ApproveFlags) {
    const secret = process.env[flags.secretEnv];
    if (!secret) throw usageError(`--secret-env: environment variable ${flags.secretEnv} is not set`);
    const token = approvalToken(secret, session);
    if (flags.printToken) return writeStdout(`${token}\n`);
    const conn = connectionFrom(flags);
    const body = await approveDebugSession(conn, session, token);
    return flags.json ? printJson(body) : writeStdout(`debug session ${session} approved; it has started on the worker\n`);
  });
}

/** Registers `debug-end`: the worker's admin ends a session on their worker. */
export function registerDebugEndCommand(program: Command): void {
  withClientOptions(
    program
      .command('debug-end')
      .description("end a debug session on your worker (the worker's admin, with the worker's secret)")
      .argument('<session>', 'the session id the worker logged')
      .requiredOption('--secret-env <var>', "environment variable holding the worker's secret"),
  ).action(async function debugEnd(session: string, flags: ApproveFlags) {
    const secret = process.env[flags.secretEnv];
    if (!secret) throw usageError(`--secret-env: environment variable ${flags.secretEnv} is not set`);
    const body = await endDebugSession(connectionFrom(flags), session, endToken(secret, session));
    return flags.json ? printJson(body) : writeStdout(`debug session ${session} ended\n`);
  });
}
