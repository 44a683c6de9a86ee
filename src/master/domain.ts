/**
 * Shepherd's domain types.
 *
 * Glossary
 * - **change source**: a repository Shepherd follows (polled with git, or
 *   fed by push webhooks). Each new commit on a followed branch is a change.
 * - **change**: one new commit: revision, branch, author, message, files.
 * - **scheduler**: turns changes, people (force), timetables (nightly) or
 *   uploaded patches (try) into build requests for its builders.
 * - **blamelist**: the changes a build is the first to build on its builder;
 *   the people who may have broken it.
 * - **patch**: a diff uploaded by `shepherd try`, applied on top of its base
 *   revision by the checkout step.
 * - **builder**: a named recipe (a list of steps) plus a selector of the
 *   workers allowed to run it.
 * - **build request**: a wish to run a builder once, with properties. It
 *   waits in the queue (priority, then first-in first-out) until a worker can
 *   take it. A request whose build ends RETRY goes back to the queue.
 * - **build**: one attempt at a request on one worker. Numbered per builder.
 * - **step**: one command of a build, run on the build's worker in its own
 *   process group. Each step has one **log**: its output, byte for byte,
 *   stored in compressed chunks.
 * - **worker**: a machine that runs builds, through the Shepherd agent (or,
 *   later, Buildbot's worker). It has **dimensions** (os, arch, ...) that
 *   builders select on, and a `max_builds` capacity.
 * - **admin**: the person who runs a worker; reachable by mail.
 * - **platform**: the set of dimensions a builder needs; several workers per
 *   platform keep it covered.
 * - **latent worker**: a worker started on demand (a cloud VM); later issue.
 * - **debug session**: an interactive shell brokered into a worker; later issue.
 */

/** How a step or build ended. Order matters: see `worstResult`. */
export const RESULTS = ['SUCCESS', 'WARNINGS', 'FAILURE', 'SKIPPED', 'EXCEPTION', 'RETRY', 'CANCELLED'] as const;
/** How a step or build ended. SKIPPED applies to steps only. */
export type Result = (typeof RESULTS)[number];

/** A build request's place in its life. */
export type RequestState = 'queued' | 'claimed' | 'complete';
/** A build's place in its life. */
export type BuildState = 'running' | 'finished';
/** A step's place in its life. */
export type StepState = 'pending' | 'running' | 'finished';

/** Build properties: string values, interpolated into steps as `${{ props.NAME }}`. */
export type Properties = Record<string, string>;

/** Epoch milliseconds. */
export type Millis = number;

/** One new commit on a followed branch of a change source. */
export interface Change {
  id: number;
  /** The change source's name (config `changes[].name`). */
  source: string;
  /** The repository URL as configured. */
  repository: string;
  branch: string;
  revision: string;
  /** "Name <mail>". */
  author: string;
  committer: string;
  message: string;
  /** Paths the commit touched (relative to the repository root). */
  files: string[];
  /** Commit time. */
  when: Millis;
  /** How it arrived: `poll`, or the webhook provider. */
  via: 'poll' | 'github' | 'gitlab' | 'gitea';
  receivedAt: Millis;
}

/** A change before the store numbered it. */
export type NewChange = Omit<Change, 'id' | 'receivedAt'>;

/** A diff uploaded for a try build. */
export interface Patch {
  id: number;
  /** The change source it applies to. */
  source: string;
  /** The revision it applies on (empty: the branch head when the build starts). */
  baseRevision: string;
  branch: string;
  /** Who sent it ("Name <mail>"); the build's result is reported to them. */
  author: string;
  comment: string;
  sizeBytes: number;
  createdAt: Millis;
}

/** A queued or claimed build request. */
export interface BuildRequest {
  id: number;
  builder: string;
  priority: number;
  properties: Properties;
  reason: string;
  submittedBy: string | null;
  submittedAt: Millis;
  state: RequestState;
  /** The build currently running for it, while claimed. */
  buildId: number | null;
  /** The final result, once complete. */
  result: Result | null;
  /** The scheduler that queued it (null: forced through the plain force API). */
  scheduler: string | null;
  /** Requests with the same non-null key for the same builder may be built as one build (see `collapse`). */
  collapseKey: string | null;
  /** The try patch to apply, if any. */
  patchId: number | null;
  /** The changes it was queued for, oldest first. */
  changeIds: number[];
}

/** One attempt at a build request. */
export interface Build {
  id: number;
  requestId: number;
  builder: string;
  number: number;
  worker: string;
  state: BuildState;
  result: Result | null;
  properties: Properties;
  startedAt: Millis;
  finishedAt: Millis | null;
  /** Why the build ended as it did, when that is not just its steps' results. */
  summary: string | null;
}

/** One step of a build. */
export interface Step {
  id: number;
  buildId: number;
  /** Position in the builder's step list, from 0. */
  index: number;
  name: string;
  state: StepState;
  result: Result | null;
  /** The command as run, after interpolation (null until it starts). */
  command: string[] | string | null;
  workdir: string | null;
  startedAt: Millis | null;
  finishedAt: Millis | null;
  exitCode: number | null;
  signal: string | null;
  /** Why the step ended as it did (timeout, cancel, spawn error...). */
  summary: string | null;
  logBytes: number;
  /** Last output sequence number stored (the worker resends after it). */
  logSeq: number;
  logTruncated: boolean;
}

/** A worker as the master knows it: its config plus what it reported. */
export interface WorkerRecord {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  connected: boolean;
  /** Hostname, os, arch, agent version, admin... as last reported. */
  info: Record<string, unknown> | null;
  lastSeen: Millis | null;
  connectedAt: Millis | null;
}

const RANK: Record<Result, number> = {
  SKIPPED: 0,
  SUCCESS: 1,
  WARNINGS: 2,
  FAILURE: 3,
  EXCEPTION: 4,
  RETRY: 5,
  CANCELLED: 6,
};

/** The worse of two results, Buildbot's order: SKIPPED < SUCCESS < WARNINGS < FAILURE < EXCEPTION < RETRY < CANCELLED. */
export function worstResult(a: Result, b: Result): Result {
  return RANK[a] >= RANK[b] ? a : b;
}
