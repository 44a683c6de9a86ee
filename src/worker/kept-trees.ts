/**
 * Failed builds' trees, kept for debug sessions. Builders share one
 * directory per builder (`DIR/BUILDER`), reused by the next build; when the
 * master says a build ended red and its builder keeps failed trees
 * (`keep_workdir`), the agent renames that directory to
 * `DIR/.shepherd/kept/BUILDER-BUILD_ID` (instant, so the next build of the
 * builder starts from a fresh directory), then enforces its admin's `keep`
 * policy: at most `maxBuilds` trees and `maxBytes` together, the oldest
 * builds' trees removed first. A tree that alone is over `maxBytes` is not
 * kept. Kept trees live in the agent's state directory, where no step can
 * reach (`step-cwd.ts`), and survive agent restarts.
 *
 * The decisions (`keptTreeName`, `planKeep`) are pure; `KeptTrees` does the I/O.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatBytes } from '../protocol/index.js';
import type { Logger } from './logger.js';
import { resolveStepCwd } from './step-cwd.js';

/** What the worker's admin allows (`keep:` in worker.yml). */
export interface KeepPolicy {
  /** Trees kept at most (0: none). */
  maxBuilds: number;
  /** Bytes all kept trees may take together. */
  maxBytes: number;
}

/** The policy of a worker whose config says nothing: one tree, 2 GiB. */
export const KEEP_DEFAULTS: KeepPolicy = { maxBuilds: 1, maxBytes: 2 * 1024 ** 3 };

/** Where kept trees go, under the agent's state directory. */
export const KEPT_DIR_NAME = 'kept';

/** A kept tree, as found on disk. */
export interface KeptTree {
  name: string;
  buildId: number;
  bytes: number;
}

/** What to do with a new tree: keep it and remove these older ones, or not keep it (why). */
export type KeepPlan = { keep: true; remove: string[] } | { keep: false; reason: string };

/**
 * The name of a build's kept tree: the builder's directory (slashes and
 * other odd characters made `_`), a dash, the build id.
 */
export function keptTreeName(builderDir: string, buildId: number): string {
  const flat = builderDir.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
  return `${flat}-${buildId}`;
}

/** The build id in a kept tree's name; null for anything else in the directory. */
export function buildIdOfKeptTree(name: string): number | null {
  const match = /-(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * Which trees to remove so that `fresh` fits the policy with `others`
 * (the trees already kept): the oldest builds first, until both caps hold.
 * A tree that alone is over the size cap is not kept.
 */
export function planKeep(policy: KeepPolicy | false, fresh: KeptTree, others: readonly KeptTree[], worker: string): KeepPlan {
  if (policy === false || policy.maxBuilds === 0) return { keep: false, reason: keepingDisabled(worker) };
  if (fresh.bytes > policy.maxBytes) {
    return {
      keep: false,
      reason: `the tree takes ${formatBytes(fresh.bytes)}, more than the ${formatBytes(policy.maxBytes)} the admin of ${worker} allows for kept trees (keep.max_size)`,
    };
  }
  const oldestFirst = [...others].sort((a, b) => a.buildId - b.buildId);
  let count = oldestFirst.length + 1;
  let bytes = fresh.bytes + oldestFirst.reduce((sum, t) => sum + t.bytes, 0);
  const remove: string[] = [];
  for (const tree of oldestFirst) {
    if (count <= policy.maxBuilds && bytes <= policy.maxBytes) break;
    remove.push(tree.name);
    count--;
    bytes -= tree.bytes;
  }
  return { keep: true, remove };
}

function keepingDisabled(worker: string): string {
  return `the admin of ${worker} does not keep failed builds' trees (keep: false in worker.yml)`;
}


/** The outcome of one keep request: the kept tree's path, or why there is none. */
export type KeepOutcome = { path: string; reason: null } | { path: null; reason: string };

/** The kept trees of one agent. */
export class KeptTrees {
  readonly #dir: string;
  readonly #keptDir: string;
  readonly #policy: KeepPolicy | false;
  readonly #worker: string;
  readonly #log: Logger;
  /** Keep requests run one at a time: each measures and prunes what the one before left. */
  #chain: Promise<unknown> = Promise.resolve();

  /** `dir` is the agent's base directory, `stateDir` its `.shepherd`. */
  constructor(options: { dir: string; stateDir: string; policy: KeepPolicy | false; worker: string; log: Logger }) {
    this.#dir = resolve(options.dir);
    this.#keptDir = join(options.stateDir, KEPT_DIR_NAME);
    this.#policy = options.policy;
    this.#worker = options.worker;
    this.#log = options.log;
  }

  /**
   * Keeps the build's tree. The rename happens before this returns, so a
   * step of the same builder that arrives next starts in a fresh directory;
   * measuring and pruning follow, and the promise says what came of it.
   */
  keep(buildId: number, builderDir: string): Promise<KeepOutcome> {
    const refuse = (reason: string): Promise<KeepOutcome> => {
      this.#log(`not keeping the tree of build ${buildId}: ${reason}`);
      return Promise.resolve({ path: null, reason });
    };
    if (this.#policy === false || this.#policy.maxBuilds === 0) return refuse(keepingDisabled(this.#worker));
    let source: string;
    try {
      source = resolveStepCwd(this.#dir, builderDir, '.');
    } catch (error) {
      return refuse((error as Error).message);
    }
    if (source === this.#dir) return refuse('the builder directory is the base directory itself');
    if (!isDirectory(source)) return refuse(`the builder's directory ${source} does not exist`);
    const name = keptTreeName(builderDir, buildId);
    const target = join(this.#keptDir, name);
    try {
      mkdirSync(this.#keptDir, { recursive: true });
      // A tree kept before for this build (asked twice) goes first: renameSync cannot replace a non-empty directory.
      if (existsSync(target)) return refuse(`a tree of build ${buildId} is already kept at ${target}`);
      renameSync(source, target);
    } catch (error) {
      return refuse(`cannot move ${source} to ${target}: ${(error as Error).message}`);
    }
    const run = this.#chain.then(() => this.#prune(buildId, name, target));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The kept tree of a build, if there is one. */
  treeOf(buildId: number): string | undefined {
    let names: string[];
    try {
      names = readdirSync(this.#keptDir);
    } catch {
      return undefined;
    }
    const name = names.find((n) => buildIdOfKeptTree(n) === buildId);
    return name === undefined ? undefined : join(this.#keptDir, name);
  }

  async #prune(buildId: number, name: string, target: string): Promise<KeepOutcome> {
    const policy = this.#policy as KeepPolicy;
    try {
      const trees: KeptTree[] = [];
      for (const entry of await readdir(this.#keptDir)) {
        const id = buildIdOfKeptTree(entry);
        if (id === null) continue;
        trees.push({ name: entry, buildId: id, bytes: await treeBytes(join(this.#keptDir, entry)) });
      }
      const fresh = trees.find((t) => t.name === name) ?? { name, buildId, bytes: 0 };
      const plan = planKeep(policy, fresh, trees.filter((t) => t.name !== name), this.#worker);
      if (!plan.keep) {
        await rm(target, { recursive: true, force: true });
        this.#log(`not keeping the tree of build ${buildId}: ${plan.reason}`);
        return { path: null, reason: plan.reason };
      }
      for (const old of plan.remove) {
        this.#log(`removing the kept tree ${old} to make room (keep: ${policy.maxBuilds} tree(s), ${formatBytes(policy.maxBytes)})`);
        await rm(join(this.#keptDir, old), { recursive: true, force: true });
      }
      this.#log(`kept the tree of build ${buildId} at ${target} (${formatBytes(fresh.bytes)})`);
      return { path: target, reason: null };
    } catch (error) {
      const reason = `cannot keep the tree at ${target}: ${(error as Error).message}`;
      this.#log(`not keeping the tree of build ${buildId}: ${reason}`);
      await rm(target, { recursive: true, force: true }).catch(() => undefined);
      return { path: null, reason };
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Bytes a tree takes: its files' sizes (links not followed), iteratively so a deep tree cannot blow the stack. */
async function treeBytes(root: string): Promise<number> {
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // removed under us, or unreadable: counts as nothing
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else {
        try {
          total += (await lstat(path)).size;
        } catch {
          // gone since the listing
        }
      }
    }
  }
  return total;
}
