/**
 * Polling a change source with git: list the remote's branch heads, fetch
 * the moved ones into a local bare mirror, and turn the commits that no
 * known head already had into changes.
 */
import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { ChangeSourceConfig } from '../config/schema.js';
import type { Change, NewChange } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { listRemoteHeads, newRevisions, readCommits } from './commits.js';
import { runGit } from './git.js';
import { ingestChanges } from './ingest.js';
import { branchMatcher, type Matcher } from './patterns.js';

/** What a poller needs. */
export interface GitPollerDeps {
  source: ChangeSourceConfig;
  /** The bare mirror the poller fetches into (created on first use), e.g. `<data_dir>/changes/<name>.git`. */
  mirrorDir: string;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
}

/** What one poll has to do, decided from the remote's heads and the recorded ones. */
export interface PollPlan {
  /** Followed branches whose head moved or that are new, with their remote head. */
  moved: Map<string, string>;
  /** Recorded branches the remote no longer has. */
  removed: string[];
  /** No head was recorded for the source yet: new branches follow `on_first_poll`. */
  firstPoll: boolean;
}

/** Compares the remote's heads with the recorded ones; only branches the source follows count. */
export function planPoll(remote: ReadonlyMap<string, string>, known: Readonly<Record<string, string>>, follows: Matcher): PollPlan {
  const moved = new Map<string, string>();
  for (const [branch, head] of remote) {
    if (follows(branch) && known[branch] !== head) moved.set(branch, head);
  }
  const removed = Object.keys(known).filter((branch) => !remote.has(branch));
  return { moved, removed, firstPoll: Object.keys(known).length === 0 };
}

/** Follows one change source by polling it every `source.poll` ms. */
export class GitPoller {
  readonly #deps: GitPollerDeps;
  readonly #follows: Matcher;
  #running: Promise<Change[]> | undefined;
  #timer: TimerHandle | undefined;
  #started = false;
  #stopped = false;

  constructor(deps: GitPollerDeps) {
    this.#deps = deps;
    this.#follows = branchMatcher(deps.source.branches);
  }

  /** Polls now, then every `source.poll` ms (measured from the end of a poll). `poll: 0` never polls. */
  start(): void {
    if (this.#started || this.#stopped || this.#deps.source.poll <= 0) return;
    this.#started = true;
    this.#tick();
  }

  /** Stops the timer and waits for a poll in progress to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Polls once; a call while a poll runs shares it. Throws when the repository cannot be read. */
  pollOnce(): Promise<Change[]> {
    this.#running ??= this.#poll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #tick(): void {
    const { source, logger } = this.#deps;
    this.pollOnce().then(
      () => this.#scheduleNext(),
      (error: unknown) => {
        // Armed before logging, so whoever reads the log line may move the clock on.
        this.#scheduleNext();
        logger.warn(
          { source: source.name, err: error },
          `polling change source ${source.name} failed (${error instanceof Error ? error.message : String(error)}); retrying in ${source.poll} ms`,
        );
      },
    );
  }

  #scheduleNext(): void {
    if (!this.#stopped) this.#timer = this.#deps.clock.setTimeout(() => this.#tick(), this.#deps.source.poll);
  }

  async #poll(): Promise<Change[]> {
    const { source, mirrorDir, store, logger } = this.#deps;
    const remote = await listRemoteHeads(source.git);
    const known = await store.getHeads(source.name);
    const plan = planPoll(remote, known, this.#follows);
    if (plan.moved.size === 0 && plan.removed.length === 0) return [];

    const heads: Record<string, string | null> = {};
    for (const branch of plan.removed) heads[branch] = null;
    const revisionsByBranch = new Map<string, string[]>();
    if (plan.moved.size > 0) {
      await this.#ensureMirror();
      const fetched = await this.#fetch([...plan.moved.keys()]);
      const exclude = Object.values(known);
      for (const [branch, head] of fetched) {
        heads[branch] = head;
        if (plan.firstPoll) {
          if (source.on_first_poll === 'build') revisionsByBranch.set(branch, [head]);
          continue;
        }
        revisionsByBranch.set(branch, await newRevisions(mirrorDir, head, exclude, source.max_changes_per_push));
      }
    }

    const wanted = [...new Set([...revisionsByBranch.values()].flat())];
    const details = new Map((await readCommits(mirrorDir, wanted)).map((commit) => [commit.revision, commit]));
    const changes: NewChange[] = [];
    for (const [branch, revisions] of revisionsByBranch) {
      for (const revision of revisions) {
        const commit = details.get(revision);
        if (!commit) throw new Error(`git log did not describe ${revision} of ${source.git}`);
        changes.push({ ...commit, source: source.name, repository: source.git, branch, via: 'poll' });
      }
    }
    const added = await ingestChanges(this.#deps, source.name, changes, heads);
    if (added.length > 0 || plan.removed.length > 0 || plan.firstPoll) {
      logger.info(
        { source: source.name, changes: added.length, branches: Object.keys(heads) },
        `change source ${source.name}: ${added.length} new change(s)`,
      );
    }
    return added;
  }

  /** Creates the bare mirror unless it exists; unreachable objects are kept so old heads stay usable as exclusions. */
  async #ensureMirror(): Promise<void> {
    const { mirrorDir } = this.#deps;
    if (await exists(join(mirrorDir, 'HEAD'))) return;
    await mkdir(dirname(mirrorDir), { recursive: true });
    await runGit(['init', '--bare', '--quiet', mirrorDir]);
    await runGit(['--git-dir', mirrorDir, 'config', 'gc.pruneExpire', 'never']);
  }

  /** Fetches these branches into the mirror; returns their heads as fetched (they may have moved since ls-remote). */
  async #fetch(branches: string[]): Promise<Map<string, string>> {
    const { source, mirrorDir } = this.#deps;
    await runGit([
      '--git-dir', mirrorDir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--', source.git,
      ...branches.map((branch) => `+refs/heads/${branch}:refs/heads/${branch}`),
    ]);
    const out = await runGit(['--git-dir', mirrorDir, 'for-each-ref', '--format=%(objectname) %(refname)', ...branches.map((b) => `refs/heads/${b}`)]);
    const inMirror = new Map<string, string>();
    for (const line of out.split('\n')) {
      const space = line.indexOf(' ');
      if (space > 0) inMirror.set(line.slice(space + 1 + 'refs/heads/'.length), line.slice(0, space));
    }
    const fetched = new Map<string, string>();
    for (const branch of branches) {
      const head = inMirror.get(branch);
      if (head) fetched.set(branch, head);
    }
    return fetched;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
