/**
 * Writing the CLI's answers: data on stdout (respecting back-pressure, so a
 * slow pipe does not make the process buffer a whole log), progress and
 * errors on stderr.
 */
import { once } from 'node:events';

/** Writes bytes or text to stdout, waiting when the pipe is full. */
export async function writeStdout(chunk: Uint8Array | string): Promise<void> {
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

/** Prints a value as indented JSON on stdout. */
export async function printJson(value: unknown): Promise<void> {
  await writeStdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress or status line on stderr. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
