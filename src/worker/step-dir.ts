/**
 * Each step's own directory, `<dir>/.shepherd/steps/<step id>/`, named to the
 * step's process in `$SHEPHERD_STEP_DIR`. The master's files for the step
 * (a try patch) are written there before it starts, and the step hands
 * build properties back by writing `NAME=value` lines to its `properties`
 * file, which the agent reads when the process ends and sends with
 * `step_finished`. The directory lives until the master releases the step.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepCommand } from '../protocol/index.js';

/** The variable that names the step's directory to its process. */
export const STEP_DIR_ENV = 'SHEPHERD_STEP_DIR';
/** Under the agent's state directory: one directory per held step. */
export const STEPS_DIR_NAME = 'steps';
/** The file in a step's directory where it sets properties. */
export const PROPERTIES_FILE = 'properties';
/** Only this much of a properties file is read: properties are revisions and versions, not logs. */
export const MAX_PROPERTIES_BYTES = 64 * 1024;
/** Longest value kept (the protocol's limit). */
export const MAX_PROPERTY_VALUE_CHARS = 10_000;

// The protocol's rule for property names.
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Properties a step set, and what was wrong with the lines that were ignored. */
export interface StepProperties {
  properties: Record<string, string>;
  /** One readable line per problem, for the step's log. */
  problems: string[];
}

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

/**
 * Parses `NAME=value` lines: the value is everything after the first `=` (a
 * trailing CR dropped), a later line wins over an earlier one, blank lines
 * and `#` comments are skipped, anything else is reported and ignored.
 */
export function parseStepProperties(text: string): StepProperties {
  const properties: Record<string, string> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#')) return;
    const where = `$${STEP_DIR_ENV}/${PROPERTIES_FILE} line ${index + 1}`;
    const eq = line.indexOf('=');
    const name = eq < 0 ? '' : line.slice(0, eq);
    if (!NAME.test(name)) {
      problems.push(`${where} is not NAME=value with a NAME of letters, digits, '_', '.' and '-'; it is ignored`);
      return;
    }
    const value = line.slice(eq + 1);
    if (value.length > MAX_PROPERTY_VALUE_CHARS) {
      problems.push(`${where}: the value of ${name} is longer than ${MAX_PROPERTY_VALUE_CHARS} characters; it is ignored`);
      return;
    }
    // Own-property writes only: `__proto__=x` must not reach the prototype.
    Object.defineProperty(properties, name, { value, enumerable: true, writable: true, configurable: true });
  });
  return { properties, problems };
}
