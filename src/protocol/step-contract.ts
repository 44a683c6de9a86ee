/**
 * The part of a step's contract that both the worker agent and the master's
 * Buildbot connection apply, so that a step behaves and logs the same on
 * either kind of worker: the glob rules of `StepCommand.collect`, which
 * collected files are sent or skipped (and the wording of the skip reason),
 * and the format of the properties file a step writes to hand back build
 * properties. Pure: the finding and reading are each side's own I/O.
 *
 * Globs are relative to the step's working directory and stay inside it: an
 * absolute glob or one with a `..` segment is refused. `*` matches within one
 * path segment, `**` (a whole segment) any number of segments, `?` one
 * character; nothing else is special.
 */
import { isAbsolute } from 'node:path';
import type { CollectEntry, FileKind } from './messages.js';

/** A file a glob matched. */
export interface FoundFile {
  /** Relative to the working directory, `/`-separated: what the master stores it as. */
  name: string;
  /** Where to read it (a followed link's target). */
  path: string;
  size: number;
}

/** One file of a step's collection: to send, or announced as skipped. */
export interface PlannedFile extends FoundFile {
  kind: FileKind;
  /** Why the limits leave it out; absent: it is sent. */
  skip?: string;
}

/** Never plan more files than this per collect entry (each is a message and a row on the master). */
export const MAX_FILES_PER_ENTRY = 1000;

/** Why a glob is refused, or null when it is usable. */
export function globProblem(glob: string): string | null {
  if (glob.includes('\0')) return `glob ${JSON.stringify(glob)} contains a NUL byte`;
  if (isAbsolute(glob) || glob.startsWith('/')) return `glob ${JSON.stringify(glob)} is absolute; globs are relative to the step's working directory`;
  if (glob.split('/').includes('..')) return `glob ${JSON.stringify(glob)} reaches outside the step's working directory with ".."`;
  return null;
}

/** Compiles a glob (checked by `globProblem`) to a matcher of `/`-separated relative names. */
export function globMatcher(glob: string): (name: string) => boolean {
  const segments = splitGlob(glob);
  let source = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      // Zero or more whole segments; as the last segment, anything below.
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    for (const char of segment) {
      if (char === '*') source += '[^/]*';
      else if (char === '?') source += '[^/]';
      else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    if (!last) source += '/';
  });
  const pattern = new RegExp(`^${source}$`);
  return (name) => pattern.test(name);
}

/** A glob's segments, without the empty and `.` ones: the form `globMatcher` compiles and a search walks. */
export function splitGlob(glob: string): string[] {
  return glob.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/**
 * Which found files are sent: in name order, each within the per-file limit
 * and while the entry's running total stays within its total limit; the
 * others are announced as skipped, with the reason.
 */
export function planUploads(entry: Pick<CollectEntry, 'kind' | 'max_file_bytes' | 'max_total_bytes'>, files: readonly FoundFile[]): PlannedFile[] {
  let total = 0;
  return files.slice(0, MAX_FILES_PER_ENTRY).map((file) => {
    if (file.size > entry.max_file_bytes) {
      return { ...file, kind: entry.kind, skip: `larger than the limit of ${formatBytes(entry.max_file_bytes)} per file` };
    }
    if (total + file.size > entry.max_total_bytes) {
      return { ...file, kind: entry.kind, skip: `past the step's limit of ${formatBytes(entry.max_total_bytes)} for its ${entry.kind} files` };
    }
    total += file.size;
    return { ...file, kind: entry.kind };
  });
}

/**
 * Sizes for people, in binary multiples as config sizes are: `512 B`, `3.2 KiB`, `1.5 GiB`.
 * Here because the skip reasons and notes must read the same from both sides.
 * (The master's config has its own in config/units.ts.)
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The variable that names the step's directory to its process. */
export const STEP_DIR_ENV = 'SHEPHERD_STEP_DIR';
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
