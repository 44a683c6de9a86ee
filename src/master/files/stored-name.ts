/**
 * Where a step's file lives under the data directory:
 * `files/BUILD_ID/STEP_ID/KIND/NAME`. NAME comes from the worker, so it is
 * checked before it becomes part of a path: relative, `/`-separated, no
 * empty, `.` or `..` segment, no NUL. A name that fails is a lie (the agent
 * only sends names of files under the step's working directory).
 */
import type { StepFileKind } from '../store/store.js';

/** The directory under the data directory that holds every step's files. */
export const FILES_DIR = 'files';
/** Under FILES_DIR: partial uploads, removed when the master starts. */
export const TMP_DIR = 'tmp';

/** What is wrong with a file name a worker sent, or null when it may be stored. */
export function storedNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.startsWith('/')) return 'is absolute';
  for (const segment of name.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" path segment`;
  }
  return null;
}

/** The stored file's path relative to the data directory, always with `/` (it is recorded in the database). */
export function storedPath(buildId: number, stepId: number, kind: StepFileKind, name: string): string {
  return `${FILES_DIR}/${buildId}/${stepId}/${kind}/${name}`;
}

/** A build's directory relative to the data directory (retention removes it whole). */
export function buildFilesDir(buildId: number): string {
  return `${FILES_DIR}/${buildId}`;
}
