/**
 * `shepherd log BUILD`: a build's step logs on stdout. With --step, stdout is
 * exactly that step's log bytes; without, every step in order, each
 * introduced by a header line on stderr.
 */
import type { Command } from 'commander';
import { parseId } from '../arguments.js';
import { getBuild, streamStepLog, type MasterConnection } from '../client.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { note, writeStdout } from '../output.js';

interface LogFlags extends ClientFlags {
  step?: string;
  follow?: boolean;
}

async function copyLog(conn: MasterConnection, buildId: number, step: string | number, follow: boolean): Promise<void> {
  for await (const chunk of await streamStepLog(conn, buildId, step, { follow })) await writeStdout(chunk);
}

/** Registers `log`. */
export function registerLogCommand(program: Command): void {
  withClientOptions(
    program
      .command('log')
      .description("print a build's step logs (one step's bytes exactly with --step)")
      .argument('<build>', 'build id, as `shepherd builds` and `force --json` print it', parseId)
      .option('-s, --step <step>', 'only this step, by index or name')
      .option('-f, --follow', 'keep printing live output until the step finishes'),
    { json: false },
  ).action(async function log(buildId: number, flags: LogFlags) {
    const conn = connectionFrom(flags);
    if (flags.step !== undefined) return copyLog(conn, buildId, flags.step, flags.follow === true);
    const build = await getBuild(conn, buildId);
    for (const step of build.steps) {
      note(`==> ${build.builder} #${build.number} step ${step.index} ${step.name}: ${step.result ?? step.state}`);
      await copyLog(conn, buildId, step.index, flags.follow === true && step.state !== 'finished');
    }
  });
}
