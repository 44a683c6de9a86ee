/**
 * What the HTTP API may do to the master: a narrow facade over the build
 * coordinator, the store and the event map, so the API layer never reaches
 * into the coordinator's internals.
 */
import type { Config, ForceParamConfig } from '../config/schema.js';
import type { BuildRequest, Change, Millis, Patch, Properties } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { MaintenanceWindow, Store } from '../store/store.js';

/** A worker's live state, as the API shows it. */
export interface WorkerView {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  /**
   * `building`: connected with at least one build; `idle`: connected; `paused`: its admin paused it;
   * `offline`: not connected; `missing`/`orphaned`: disconnected past fleet.missing_after / orphan_after.
   */
  state: 'building' | 'idle' | 'paused' | 'offline' | 'missing' | 'orphaned';
  connected: boolean;
  /** Ids of the builds running on it now. */
  builds: number[];
  /** What the agent reported last (os, arch, hostname, admin, agent_version...). */
  info: Record<string, unknown> | null;
  protocol: 'shepherd' | 'buildbot' | null;
  connectedAt: Millis | null;
  lastSeen: Millis | null;
  /** The config's admins, else the contact its admin set, else the agent's reported admin. */
  admins: string[];
  /** The agent reports an admin the config does not list. */
  adminMismatch: boolean;
  notes: string | null;
  /** Set while paused. */
  paused: { by: string | null; at: Millis | null } | null;
  /** Share of the last 7 and 30 days it was connected (0 to 1), from its stored sessions. */
  uptime: { d7: number; d30: number };
  /** Finished builds it ran (all time). */
  buildsRun: number;
  /** `config`: from the config file; `registered`: created by approving a volunteer's application; `latent`: an on-demand instance. */
  source: 'config' | 'registered' | 'latent';
  /** For an on-demand instance: its pool, life and cost so far (null for other workers). */
  instance: LatentInstanceView | null;
  /** Maintenance windows (no missing-worker alert while one is open): the config's, the agent's own config's, and those its admin set. */
  maintenance: { cron: string; duration: Millis; from: 'config' | 'agent' | 'admin' }[];
}

/** Input for queueing a build request (forced, or from a scheduler). */
/** An on-demand instance: its life and cost (the workers list and GET /api/v1/instances). */
export interface LatentInstanceView {
  id: number;
  name: string;
  pool: string;
  provider: string;
  /** The provider's handle (pid directory, EC2 instance id, pod name); null until its start was accepted. */
  providerId: string | null;
  state: 'starting' | 'connected' | 'building' | 'idle' | 'stopping' | 'stopped' | 'failed';
  startedAt: Millis;
  connectedAt: Millis | null;
  stoppedAt: Millis | null;
  builds: number;
  reason: string | null;
  /** What it has cost so far (its running hours × the pool's cost_per_hour). */
  cost: number;
}

export interface ForceInput {
  builder: string;
  properties: Properties;
  reason: string;
  submittedBy: string | null;
  priority?: number;
  /** The scheduler queueing it. */
  scheduler?: string | null;
  /** Requests of one builder with the same key may be collapsed into one build (null: never). */
  collapseKey?: string | null;
  /** A try patch to apply after checkout. */
  patchId?: number | null;
  /** The changes it is for. */
  changeIds?: number[];
}

/** Queues build requests: what schedulers need from the master. */
export type SubmitRequest = (input: ForceInput) => Promise<BuildRequest>;

/** A configured scheduler, as the API lists it. */
export interface SchedulerView {
  name: string;
  kind: 'on_change' | 'force' | 'nightly' | 'try';
  builders: string[];
  /** force: its typed parameters. */
  params?: Record<string, ForceParamConfig>;
  /** nightly: when it fires next. */
  nextRun?: Millis | null;
}

/** A person forcing builds through a force scheduler. */
export interface SchedulerForceInput {
  builders?: string[];
  /** Parameter values, validated against the scheduler's typed params before anything is queued. */
  params: Record<string, unknown>;
  reason?: string;
  submittedBy: string;
  revision?: string;
  branch?: string;
}

/** A patch sent for a try build. */
export interface TryInput {
  scheduler?: string;
  builders: string[];
  patch: Buffer;
  baseRevision: string;
  branch?: string;
  author: string;
  comment?: string;
}

/** What the API may ask of the schedulers. */
export interface SchedulerControl {
  list(): SchedulerView[];
  /** SHEPHERD_E_NOT_FOUND for an unknown or non-force scheduler; SHEPHERD_E_VALIDATION naming a bad parameter. */
  force(scheduler: string, input: SchedulerForceInput): Promise<BuildRequest[]>;
  /** SHEPHERD_E_PATCH for an empty, oversized or non-diff patch. */
  submitTry(input: TryInput): Promise<{ patch: Patch; requests: BuildRequest[] }>;
}

/** What the API may ask of the change sources. */
export interface ChangeSourceControl {
  /** Polls a source now (whatever its interval) and returns the changes it found; SHEPHERD_E_NOT_FOUND for an unknown source. */
  poll(source: string): Promise<Change[]>;
}

/** The master as the API sees it. */
export interface MasterControl {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly events: MasterEventBus;
  /** The API token, or null when writes are disabled. */
  readonly apiToken: string | null;
  /** Queues a build request; throws SHEPHERD_E_NOT_FOUND for an unknown builder. */
  force(input: ForceInput): Promise<BuildRequest>;
  /**
   * Cancels a running build (kills its running step; always_run steps still
   * run) or throws SHEPHERD_E_NOT_FOUND / SHEPHERD_E_CONFLICT (already finished).
   */
  cancelBuild(buildId: number, reason: string): Promise<void>;
  /** Cancels a queued request; SHEPHERD_E_CONFLICT when it is no longer queued. */
  cancelRequest(requestId: number): Promise<BuildRequest>;
  /** Every configured worker with its live state. */
  workers(): Promise<WorkerView[]>;
  /** Whether a worker of that name exists now, and where it comes from (undefined: none, or retired). */
  workerSource(name: string): 'config' | 'registered' | 'latent' | undefined;
  /** True when `secret` is this worker's own secret (its admin may pause it and set its contact). */
  isWorkerSecret(worker: string, secret: string): boolean;
  /** Pauses or resumes a worker: paused, it takes no new builds and raises no fleet alerts. */
  setPaused(worker: string, paused: boolean, by: string): Promise<void>;
  /** Replaces the maintenance windows its admin set for a worker (empty: none). */
  setMaintenance(worker: string, windows: MaintenanceWindow[]): Promise<void>;
  /** Sets the contact and notes its admin keeps for a worker. */
  setContact(worker: string, contact: string | undefined, notes: string | undefined): Promise<void>;
  /** A step log's current length in bytes, including output received but not yet stored. */
  logLength(stepId: number): Promise<number>;
  /** The bytes of a step's log in [start, end), stored or still pending in memory. */
  readLog(stepId: number, start: number, end?: number): AsyncIterable<Buffer>;
}
