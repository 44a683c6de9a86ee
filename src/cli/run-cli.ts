/**
 * Running the program: parse, run the command, turn whatever went wrong into
 * one stderr line and an exit status (0 ok, 1 failure, 2 usage).
 */
import { CommanderError } from 'commander';
import { describeFailure, EXIT } from './errors.js';
import { createProgram } from './program.js';

/** Runs the CLI with `argv` (as process.argv) and resolves with the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const context = { exitCode: EXIT.ok };
  try {
    await createProgram(context).parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with status 0; everything else commander rejects is a usage error (already printed).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { lines, exitCode } = describeFailure(error);
    for (const line of lines) process.stderr.write(`${line}\n`);
    return exitCode;
  }
}
