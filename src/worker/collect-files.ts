/**
 * Finding the files a step asked to send back (`StepCommand.collect`) once
 * its process has ended, and deciding which of them the limits let through.
 *
 * Globs are relative to the step's working directory and stay inside it: an
 * absolute glob or one with a `..` segment is refused. `*` matches within one
 * path segment, `**` (a whole segment) any number of segments, `?` one
 * character; nothing else is special. Only regular files are collected. A
 * symbolic link is followed only when it points to a file inside the
 * builder's directory; linked directories are not descended into (no loops,
 * no escapes). Dependency-free on purpose: the agent is one bundled file.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { CollectEntry, FileKind } from '../protocol/index.js';
import { formatBytes } from './format-size.js';

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

// A glob over a huge tree must not stall the agent: stop looking after this many directory entries.
const MAX_ENTRIES_VISITED = 200_000;
// And never plan more files than this per collect entry (each is a message and a row on the master).
const MAX_FILES_PER_ENTRY = 1000;

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

function splitGlob(glob: string): string[] {
  return glob.split('/').filter((segment) => segment !== '' && segment !== '.');
}

const WILD = /[*?]/;

/**
 * The files under `cwd` matched by any of `globs`, sorted by name, each
 * once. `builderDir` bounds where links may point. Problems (refused globs,
 * links not followed, unreadable directories) come back as readable lines
 * for the step's log; they never throw.
 */
export async function findFiles(cwd: string, builderDir: string, globs: readonly string[]): Promise<{ files: FoundFile[]; problems: string[] }> {
  const problems: string[] = [];
  const found = new Map<string, FoundFile>();
  let visited = 0;
  let bounds: string;
  try {
    bounds = await realpath(builderDir);
  } catch (error) {
    return { files: [], problems: [`cannot read the builder directory: ${(error as Error).message}`] };
  }
  const inside = (path: string) => {
    const rel = relative(bounds, path);
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  };

  /** Adds a candidate file if it is a regular file (a link only when it stays inside the builder's directory). */
  async function consider(name: string, path: string): Promise<void> {
    if (found.has(name)) return;
    let info = await lstat(path).catch(() => null);
    let target = path;
    if (info?.isSymbolicLink()) {
      const resolved = await realpath(path).catch(() => null);
      if (!resolved || !inside(resolved)) {
        problems.push(`${name}: a symbolic link pointing outside the builder directory; not collected`);
        return;
      }
      target = resolved;
      info = await stat(resolved).catch(() => null);
    }
    if (info?.isFile()) found.set(name, { name, path: target, size: info.size });
  }

  for (const glob of globs) {
    const problem = globProblem(glob);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const segments = splitGlob(glob);
    if (segments.length === 0) continue;
    const matches = globMatcher(segments.join('/'));
    // Walk from the longest literal prefix: `build/logs/*.log` never lists the rest of the tree.
    const firstWild = segments.findIndex((s) => WILD.test(s));
    if (firstWild < 0) {
      await consider(segments.join('/'), join(cwd, ...segments));
      continue;
    }
    const prefix = segments.slice(0, firstWild);
    const start = join(cwd, ...prefix);
    const real = await realpath(start).catch(() => null);
    if (!real) continue; // nothing there: the glob matches nothing
    if (!inside(real)) {
      problems.push(`${prefix.join('/')}: a symbolic link pointing outside the builder directory; not searched`);
      continue;
    }
    const deep = segments.slice(firstWild).includes('**');
    const maxDepth = segments.length - firstWild;
    const walk = async (dir: string, name: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        problems.push(`cannot list ${name || '.'}: ${(error as Error).message}`);
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (++visited > MAX_ENTRIES_VISITED) return;
        const childName = name ? `${name}/${entry.name}` : entry.name;
        const childPath = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (deep || depth + 1 < maxDepth) await walk(childPath, childName, depth + 1);
        } else if ((entry.isFile() || entry.isSymbolicLink()) && matches(childName)) {
          await consider(childName, childPath);
        }
      }
    };
    await walk(start, prefix.join('/'), 0);
    if (visited > MAX_ENTRIES_VISITED) {
      problems.push(`stopped looking after ${MAX_ENTRIES_VISITED} directory entries; narrow the globs`);
      break;
    }
  }
  const files = [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, problems };
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
 * Everything a step's `collect` asks for: found, planned and summarised.
 * `notes` are lines for the step's log (what was found and skipped, and any
 * problem), so the build's author sees why a file is missing.
 */
export async function collectFiles(
  collect: readonly CollectEntry[],
  where: { cwd: string; builderDir: string },
): Promise<{ files: PlannedFile[]; notes: string[] }> {
  const files: PlannedFile[] = [];
  const notes: string[] = [];
  for (const entry of collect) {
    const found = await findFiles(where.cwd, where.builderDir, entry.globs);
    const planned = planUploads(entry, found.files);
    files.push(...planned);
    const skipped = planned.filter((f) => f.skip);
    const what = entry.kind === 'artifact' ? 'artifacts' : 'test results';
    if (found.files.length === 0) notes.push(`${what}: no file matched ${entry.globs.join(', ')}`);
    else notes.push(`${what}: sending ${planned.length - skipped.length} file(s)${skipped.length ? `, skipping ${skipped.length}` : ''}`);
    if (found.files.length > planned.length) notes.push(`${what}: only the first ${MAX_FILES_PER_ENTRY} files are collected`);
    for (const file of skipped) notes.push(`${what}: skipping ${file.name} (${formatBytes(file.size)}): ${file.skip}`);
    for (const problem of found.problems) notes.push(`${what}: ${problem}`);
  }
  return { files, notes };
}
