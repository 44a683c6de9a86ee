/**
 * Each step's own directory, `<dir>/.shepherd/steps/<step id>/`, named to the
 * step's process in `$SHEPHERD_STEP_DIR`. The master's files for the step
 * (a try patch) are written there before it starts, and the step hands
 * build properties back by writing `NAME=value` lines to its `properties`
 * file, which the agent reads when the process ends and sends with
 * `step_finished` (the file's format is the step contract's, in
 * `protocol/step-contract.ts`). The directory lives until the master
 * releases the step.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_PROPERTIES_BYTES, parseStepProperties, PROPERTIES_FILE, STEP_DIR_ENV, type StepCommand, type StepProperties } from '../protocol/index.js';

/** Under the agent's state directory: one directory per held step. */
export const STEPS_DIR_NAME = 'steps';

/**
 * Makes a fresh, empty directory for a step (whatever was there goes) and
 * writes the master's files into it. Throws an Error saying what failed.
 */
export function prepareStepDir(path: string, files: StepCommand['files'] = []): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  for (const file of files) {
    // The protocol's pattern lets these two through; neither is a file name.
    if (file.name === '.' || file.name === '..') throw new Error(`the master sent a file named ${JSON.stringify(file.name)}`);
    writeFileSync(join(path, file.name), Buffer.from(file.data_base64, 'base64'));
  }
}

/** Removes a step's directory; a directory that cannot be removed is left, not fatal. */
export function removeStepDir(path: string): string | null {
  try {
    rmSync(path, { recursive: true, force: true });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Reads the properties a step wrote to `<path>/properties`: none when the
 * file does not exist. Only a regular file is read (not a symlink, nor a
 * FIFO that would block the agent), and only its first 64 KiB.
 */
export function readStepProperties(path: string): StepProperties {
  const file = join(path, PROPERTIES_FILE);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { properties: {}, problems: [] };
    if (code === 'ELOOP') return { properties: {}, problems: [`$${STEP_DIR_ENV}/${PROPERTIES_FILE} is a symbolic link; it is ignored`] };
    return { properties: {}, problems: [`cannot read $${STEP_DIR_ENV}/${PROPERTIES_FILE}: ${(error as Error).message}`] };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { properties: {}, problems: [`$${STEP_DIR_ENV}/${PROPERTIES_FILE} is not a regular file; it is ignored`] };
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_PROPERTIES_BYTES));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    const truncated = stat.size > MAX_PROPERTIES_BYTES;
    // A file cut at the limit ends in part of a line, which must not pass for a whole value.
    const end = truncated ? buffer.lastIndexOf(0x0a, length - 1) + 1 : length;
    const parsed = parseStepProperties(buffer.subarray(0, end).toString('utf8'));
    if (truncated) {
      parsed.problems.push(`$${STEP_DIR_ENV}/${PROPERTIES_FILE} is larger than ${MAX_PROPERTIES_BYTES / 1024} KiB; the rest is ignored`);
    }
    return parsed;
  } catch (error) {
    return { properties: {}, problems: [`cannot read $${STEP_DIR_ENV}/${PROPERTIES_FILE}: ${(error as Error).message}`] };
  } finally {
    closeSync(fd);
  }
}
