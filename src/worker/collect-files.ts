/**
 * Finding the files a step asked to send back (`StepCommand.collect`) once
 * its process has ended; the glob rules and which files the limits let
 * through are the step contract's (`protocol/step-contract.ts`), shared with
 * the master's Buildbot connection. Only regular files are collected. A
 * symbolic link is followed only when it points to a file inside the
 * builder's directory; linked directories are not descended into (no loops,
 * no escapes). Dependency-free on purpose: the agent is one bundled file.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { formatBytes, globMatcher, globProblem, MAX_FILES_PER_ENTRY, planUploads, splitGlob, type CollectEntry, type FoundFile, type PlannedFile } from '../protocol/index.js';

// A glob over a huge tree must not stall the agent: stop looking after this many directory entries.
const MAX_ENTRIES_VISITED = 200_000;

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
