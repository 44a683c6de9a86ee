/**
 * Shepherd's domain types.
 *
 * Glossary
 * - **change**: a new commit (or patch) that may need building. (Change
 *   sources arrive with the schedulers; the core builds forced requests.)
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
