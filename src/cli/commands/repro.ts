/**
 * `shepherd repro BUILD`: a POSIX sh script that reproduces a build on this
 * (or any) machine: run it with `sh` in an empty directory. With -o, written
 * to a file (executable); with --json, the parts it was made from.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseId } from '../arguments.js';
import { connectionFrom, withClientOptions, type ClientFlags } from '../connection.js';
import { CliError } from '../errors.js';
import { note, writeStdout } from '../output.js';
import { getRepro } from '../client.js';

interface ReproFlags extends ClientFlags {
  output?: string;
}

/** Registers `repro`. */
export function registerReproCommand(program: Command): void {
  withClientOptions(
    program
      .command('repro')
      .description('print a sh script that reproduces a build elsewhere (run it with sh in an empty directory)')
      .argument('<build>', 'build id, as `shepherd builds` and `force --json` print it', parseId)
      .option('-o, --output <file>', 'write the script to FILE (made executable) instead of stdout'),
  ).action(async function repro(buildId: number, flags: ReproFlags) {
    const conn = connectionFrom(flags);
    const text = await getRepro(conn, buildId, flags.json ? 'json' : 'sh');
    if (flags.output === undefined) return writeStdout(text);
    try {
      await writeFile(flags.output, text, { mode: flags.json ? 0o644 : 0o755 });
    } catch (error) {
      throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`, { cause: error });
    }
    note(flags.json ? `wrote ${flags.output}` : `wrote ${flags.output}: run it with \`sh ${flags.output}\` in an empty directory`);
  });
}
