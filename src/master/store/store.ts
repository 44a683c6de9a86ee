/**
 * The master's persistence, one interface over SQLite and PostgreSQL.
 * All SQL lives under `src/master/store/`; the rest of the master sees only
 * this interface and the domain types. Ids are integers and times are epoch
 * milliseconds on both databases.
 */
import type { Build, BuildRequest, Change, Millis, NewChange, Patch, Properties, Result, Step } from '../domain.js';
import type { SentAlert } from '../fleet/types.js';
import type { DebugSessionEnd, DebugSessionRecord, NewDebugSession } from './debug-sessions.js';
import type { TestOutcome } from '../tests/types.js';
import type { LatentInstanceFilter, LatentInstancePatch, LatentInstanceRecord, NewLatentInstance } from './latent-instances.js';

/** Input for a new build request. */
export interface NewRequest {
  builder: string;
  priority: number;
  properties: Properties;
  reason: string;
  submittedBy: string | null;
  submittedAt: Millis;
  /** The scheduler queueing it (default null). */
  scheduler?: string | null;
  /** Requests with the same key for the same builder may be collapsed into one build (default null: never). */
  collapseKey?: string | null;
  /** A try patch (default null). */
  patchId?: number | null;
  /** The changes it is for (default none). */
  changeIds?: number[];
}

/** Input for claiming a request and creating its build. */
export interface NewBuild {
  requestId: number;
  builder: string;
  worker: string;
  /** Build properties; the store adds `buildnumber` once it has allocated the number. */
  properties: Properties;
  /** Step names in order; the steps are created `pending`. */
  steps: string[];
  startedAt: Millis;
  /**
   * Other queued requests of the same builder built by this build too
   * (collapsed). Those still queued are claimed with it and complete with it;
   * any no longer queued are left alone.
   */
  collapse?: number[];
}

/** Filters and paging for change lists (newest first). */
export interface ChangeQuery {
  source?: string;
  branch?: string;
  /** Only changes with an id lower than this (the next page's cursor). */
  beforeId?: number;
  limit: number;
}

/** A build that built a change (in its blamelist). */
export interface ChangeBuild {
  changeId: number;
  buildId: number;
  builder: string;
  number: number;
  state: 'running' | 'finished';
  result: Result | null;
}

/** Input for storing a try patch. */
export type NewPatch = Omit<Patch, 'id' | 'sizeBytes'> & { data: Buffer };

/** Filters and paging for build lists (newest first). */
export interface BuildQuery {
  builder?: string;
  result?: Result;
  state?: 'running' | 'finished';
  worker?: string;
  /** Only builds with an id lower than this (the next page's cursor). */
  beforeId?: number;
  limit: number;
}

/** A worker's persisted presence and reported info. */
export interface WorkerRow {
  name: string;
  info: Record<string, unknown> | null;
  firstSeen: Millis | null;
  lastSeen: Millis | null;
  /** Set while connected (to this or another master). */
  connectedAt: Millis | null;
}

/** A builder whose latest counted build failed (the rule of `notify/decide.ts`), and since when. */
export interface FailingStreak {
  builder: string;
  /** The first counted build after the last passing one: the streak's first failure. */
  firstFailing: Build;
  /** That build's blamelist, oldest change first (who probably broke it). */
  blamelist: Change[];
  /** The builder's latest finished build that is not a try build (a RETRY or CANCELLED one included). */
  last: Build;
  /** Counted builds in the streak, every one of them failed. */
  failingBuilds: number;
}

/** The queue at a glance. */
export interface QueueSummary {
  /** Requests queued. */
  length: number;
  /** The one submitted first (then lowest id), if any. */
  oldest: BuildRequest | undefined;
}

/** The master's store. Every method is one transaction. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  // ---- requests
  enqueueRequest(request: NewRequest): Promise<BuildRequest>;
  /** Queued requests, in the order they should be served: priority desc, then submittedAt, then id. */
  listQueuedRequests(): Promise<BuildRequest[]>;
  getRequest(id: number): Promise<BuildRequest | undefined>;
  /** Marks a queued request complete with result CANCELLED; undefined when it was not queued. */
  cancelQueuedRequest(id: number, at: Millis): Promise<BuildRequest | undefined>;

  // ---- builds
  /**
   * Atomically claims a queued request and creates its build (numbered
   * max+1 per builder) and pending steps. Returns undefined if the request
   * is no longer queued (another master, or it was cancelled).
   */
  startBuild(input: NewBuild): Promise<{ build: Build; steps: Step[]; request: BuildRequest } | undefined>;
  /**
   * Finishes a build. With `requeue` the request goes back to the queue
   * (a RETRY); otherwise it is complete with the build's result.
   */
  finishBuild(
    buildId: number,
    end: { result: Result; summary: string | null; finishedAt: Millis; requeue: boolean },
  ): Promise<{ build: Build; request: BuildRequest }>;
  getBuild(id: number): Promise<Build | undefined>;
  /** Merges properties a step set (a checkout's `got_revision`) into a build's properties; returns the build. */
  updateBuildProperties(buildId: number, properties: Properties): Promise<Build>;
  /** A build by builder and number. */
  getBuildByNumber(builder: string, number: number): Promise<Build | undefined>;
  listBuilds(query: BuildQuery): Promise<Build[]>;
  /** The latest finished build of each builder (for builder lists). */
  lastBuildPerBuilder(): Promise<Build[]>;
  /** How many finished builds each worker ran (workers with none are absent), in one query. */
  countBuildsByWorker(): Promise<Record<string, number>>;

  // ---- steps
  getSteps(buildId: number): Promise<Step[]>;
  getStep(id: number): Promise<Step | undefined>;
  markStepStarted(
    stepId: number,
    start: { command: string[] | string; workdir: string; startedAt: Millis },
  ): Promise<Step>;
  finishStep(
    stepId: number,
    end: { result: Result; exitCode: number | null; signal: string | null; summary: string | null; finishedAt: Millis },
  ): Promise<Step>;

  // ---- logs
  /**
   * Appends raw bytes to a step's log as one compressed chunk and records
   * `lastSeq` as the last output sequence number stored (all in one
   * transaction). `truncated` marks the log as cut at its size limit.
   */
  appendLog(stepId: number, data: Buffer, lastSeq: number, truncated?: boolean): Promise<void>;
  /** Records a new `lastSeq` without adding bytes (output dropped past the limit). */
  setLogSeq(stepId: number, lastSeq: number): Promise<void>;
  /** Streams the stored log bytes in [start, end) (end defaults to the log's length), decompressing chunk by chunk. */
  readLog(stepId: number, start?: number, end?: number): AsyncIterable<Buffer>;

  // ---- workers
  /** Records that a worker connected (info as reported) or disconnected (info undefined). */
  recordWorkerConnected(name: string, info: Record<string, unknown>, at: Millis): Promise<void>;
  recordWorkerDisconnected(name: string, at: Millis): Promise<void>;
  /** Marks every worker disconnected (master start-up: connections did not survive). */
  resetWorkerConnections(at: Millis): Promise<void>;
  listWorkers(): Promise<WorkerRow[]>;

  // ---- changes
  /**
   * Stores new changes and a change source's branch heads in one
   * transaction. A change already stored (same source, branch and revision)
   * is skipped. `heads` maps a branch to its new head; null removes the
   * branch (it disappeared). Returns the changes actually added, oldest first.
   */
  recordChanges(source: string, changes: NewChange[], heads: Record<string, string | null>, at: Millis): Promise<Change[]>;
  /** The branch heads last recorded for a change source. */
  getHeads(source: string): Promise<Record<string, string>>;
  getChange(id: number): Promise<Change | undefined>;
  getChanges(ids: number[]): Promise<Change[]>;
  listChanges(query: ChangeQuery): Promise<Change[]>;
  /** The builds whose blamelist holds each of these changes. */
  buildsOfChanges(changeIds: number[]): Promise<ChangeBuild[]>;
  /** A build's blamelist: the changes of every request it built, oldest first. */
  getBlamelist(buildId: number): Promise<Change[]>;
  /** The newest change on a source's branch, if any (nightly `only_if_changed`). */
  latestChange(source: string, branch: string): Promise<Change | undefined>;

  // ---- webhooks
  /** Records a webhook delivery id; false when it was already recorded (a redelivery). */
  recordDelivery(provider: string, deliveryId: string, at: Millis): Promise<boolean>;

  // ---- patches
  addPatch(patch: NewPatch): Promise<Patch>;
  getPatch(id: number): Promise<(Patch & { data: Buffer }) | undefined>;

  // ---- views (the web UI's home page, grid and console)
  /**
   * The failing streaks of those of `builders` whose latest counted build
   * failed (try builds and RETRY, CANCELLED, SKIPPED results do not count),
   * longest-failing first; three queries whatever the number of builders.
   */
  failingStreaks(builders: readonly string[]): Promise<FailingStreak[]>;
  /** How many requests are queued and the one waiting longest. */
  queueSummary(): Promise<QueueSummary>;
  /**
   * The builds of `builders` whose blamelist holds one of `changeIds`
   * (a build appears once per such change): newest change first, then
   * newest build first.
   */
  gridBuilds(changeIds: readonly number[], builders: readonly string[]): Promise<ChangeBuild[]>;

  // ---- scheduler state
  /** A scheduler's saved state (nightly: last run), or undefined. */
  getSchedulerState(name: string): Promise<Record<string, unknown> | undefined>;
  setSchedulerState(name: string, state: Record<string, unknown>): Promise<void>;

  // ---- fleet (presence history, admin flags, the ledger of alerts sent)
  /** Every connection of a worker is a session; open while `disconnectedAt` is null. Stored by recordWorkerConnected/Disconnected. */
  listWorkerSessions(worker: string, since: Millis): Promise<WorkerSession[]>;
  /** Every worker's sessions overlapping [since, now), in one query (by worker, then start). */
  listAllWorkerSessions(since: Millis): Promise<WorkerSession[]>;
  /** Sets or clears a worker's paused flag (by whom, when). */
  setWorkerPaused(worker: string, paused: boolean, by: string, at: Millis): Promise<void>;
  /** Replaces a worker's contact and notes as its admin set them (null clears one); the paused flag is kept. */
  setWorkerContact(worker: string, contact: string | null, notes: string | null): Promise<void>;
  /** Admin-maintained flags per worker (paused, contact, notes), for every worker that has any. */
  getWorkerFlags(): Promise<WorkerFlags[]>;
  /** Records alerts as sent; one already recorded (same worker, episode, kind, sequence) is skipped and false returned for it. */
  recordAlerts(alerts: SentAlert[]): Promise<boolean[]>;
  /** The alerts sent about a worker's disconnection episode(s), oldest first. */
  listAlerts(filter: { worker?: string; episode?: Millis }): Promise<SentAlert[]>;
  /** Replaces the maintenance windows a worker's admin set through the CLI or API (empty clears them); other flags are kept. */
  setWorkerMaintenance(worker: string, windows: MaintenanceWindow[]): Promise<void>;

  // ---- joining the farm: volunteers' applications and the workers approval creates
  /**
   * Stores a pending application. SHEPHERD_E_CONFLICT (naming `name`) when
   * a registered worker (retired ones included) or a pending application
   * already has that name; the caller checks config workers itself.
   */
  createApplication(application: NewApplication): Promise<Application>;
  getApplication(id: number): Promise<Application | undefined>;
  /** Applications, newest first; `state` filters. */
  listApplications(filter: { state?: ApplicationState }): Promise<Application[]>;
  /**
   * Approves a pending application: in one transaction it becomes `approved`
   * and its worker is registered (named `worker.name`, which may differ from
   * the proposed name). Undefined when it was not pending; SHEPHERD_E_CONFLICT
   * naming `name` when a registered worker already has the name.
   */
  approveApplication(
    id: number,
    decision: { by: string; at: Millis; worker: NewRegisteredWorker },
  ): Promise<{ application: Application; worker: RegisteredWorker } | undefined>;
  /** Declines a pending application; undefined when it was not pending. */
  declineApplication(id: number, decision: { by: string; at: Millis; reason: string }): Promise<Application | undefined>;
  /**
   * Sets the secret of the worker an approved application created, once:
   * true when it had none (the volunteer is shown it now), false when it was
   * already collected.
   */
  collectWorkerSecret(applicationId: number, secretHash: string, at: Millis): Promise<boolean>;
  /** Every registered worker, retired ones included, by name. */
  listRegisteredWorkers(): Promise<RegisteredWorker[]>;
  /** Retires a registered worker (it can no longer connect; its builds and sessions stay); undefined when unknown or already retired. */
  retireWorker(name: string, by: string, at: Millis): Promise<RegisteredWorker | undefined>;

  // ---- farm health over time
  /**
   * Records a health sample; one per `bucket` (several masters, or a restart,
   * sampling the same bucket record it once): false when the bucket had one.
   */
  recordHealthSample(sample: HealthSample): Promise<boolean>;
  /** Samples with `bucket >= since`, oldest first. */
  listHealthSamples(since: Millis): Promise<HealthSample[]>;
  /**
   * How long each build started since `since` waited: its start minus its
   * own request's submission, with its builder and worker (oldest first;
   * try builds included). One query.
   */
  listQueueWaits(since: Millis): Promise<QueueWait[]>;

  // ---- files steps sent back (006)
  /**
   * Records a file a step sent (or one announced as skipped); undefined when
   * the step already has a file of that kind and name (nothing is recorded).
   */
  addStepFile(file: NewStepFile): Promise<StepFile | undefined>;
  /** Files by build, step and/or kind, oldest first. */
  listStepFiles(filter: { buildId?: number; stepId?: number; kind?: StepFileKind }): Promise<StepFile[]>;
  getStepFile(id: number): Promise<StepFile | undefined>;
  /** Per build with stored files: their total size and when the newest was stored (skipped files not counted). */
  stepFileUsage(): Promise<StepFileUsage[]>;
  /** Deletes every file row of these builds; returns how many went. */
  deleteStepFiles(buildIds: readonly number[]): Promise<number>;

  // ---- per-test results and quarantine (007)
  /** Stores a step's test results in one transaction (batched inserts); returns their ids in order. */
  addTestResults(results: readonly NewTestResult[]): Promise<number[]>;
  /** A build's tests, failures first (then errors, skips, passes; by name), paged; counts leave re-run rows out. */
  listBuildTests(buildId: number, page: { offset: number; limit: number; failuresOnly?: boolean }): Promise<BuildTests>;
  /** A test's runs, newest first; `beforeId` pages. */
  testHistory(name: string, filter: { builder?: string; beforeId?: number; limit: number }): Promise<StoredTestResult[]>;
  /** Outcomes (no messages) at one revision: of these names, or (`failuresOnly`) every failure there. */
  testOutcomesAtRevision(revision: string, filter: { names?: readonly string[]; failuresOnly?: boolean }): Promise<TestRun[]>;
  /** Marks test results flaky. */
  markTestsFlaky(ids: readonly number[]): Promise<void>;
  /** Quarantine entries added through the API, oldest first. */
  listQuarantine(): Promise<StoredQuarantineEntry[]>;
  addQuarantine(entry: NewQuarantineEntry): Promise<StoredQuarantineEntry>;
  /** Removes an API quarantine entry; false when there was none with that id. */
  removeQuarantine(id: number): Promise<boolean>;

  // Debug sessions (008; debug-sessions.ts).
  /** Records a debug session asked for (before the worker answers). */
  createDebugSession(input: NewDebugSession): Promise<DebugSessionRecord>;
  /** The worker opened it: its mode and recording file. */
  markDebugSessionOpened(session: string, opened: { mode: 'pty' | 'pipe'; recording: string }): Promise<void>;
  /** Records its end (refused, exited, closed); only the first end counts. */
  finishDebugSession(session: string, end: DebugSessionEnd): Promise<void>;
  getDebugSession(session: string): Promise<DebugSessionRecord | undefined>;
  /** A build's debug sessions, newest first. */
  listDebugSessions(buildId: number): Promise<DebugSessionRecord[]>;

  // On-demand instances (009; latent-instances.ts).
  /**
   * Records an instance about to be started (state `starting`, no provider id
   * yet). SHEPHERD_E_CONFLICT naming `name` while another instance of that
   * name is alive (not stopped).
   */
  createLatentInstance(instance: NewLatentInstance): Promise<LatentInstanceRecord>;
  /** Changes an instance's fields; undefined when there is no instance with that id. */
  updateLatentInstance(id: number, patch: LatentInstancePatch): Promise<LatentInstanceRecord | undefined>;
  getLatentInstance(id: number): Promise<LatentInstanceRecord | undefined>;
  /** Instances, oldest start first. */
  listLatentInstances(filter: LatentInstanceFilter): Promise<LatentInstanceRecord[]>;

  close(): Promise<void>;
}

/** One test's outcome in one step, to store. */
export interface NewTestResult {
  buildId: number;
  stepId: number;
  builder: string;
  worker: string;
  /** The worker's platform at the time (see `tests/platform.ts`). */
  platform: string | null;
  revision: string | null;
  name: string;
  suite: string | null;
  result: TestOutcome;
  durationMs: number | null;
  message: string | null;
  flaky: boolean;
  rerun: boolean;
  quarantined: boolean;
  at: Millis;
}

/** A stored test result. */
export interface StoredTestResult extends NewTestResult {
  id: number;
}

/** A stored test result without its message (flakiness and separation read many). */
export type TestRun = Omit<StoredTestResult, 'message'>;

/** A page of a build's tests and its counts. */
export interface BuildTests {
  /** Tests by outcome, re-run rows left out. */
  counts: Record<TestOutcome, number>;
  total: number;
  flaky: number;
  /** Failures that were quarantined. */
  quarantined: number;
  tests: StoredTestResult[];
}

/** A quarantine entry added through the API. */
export interface NewQuarantineEntry {
  /** A test name, or a glob (`*` matches any run of characters). */
  test: string;
  /** Only on these builders (null: all). */
  builders: string[] | null;
  reason: string;
  addedBy: string;
  addedAt: Millis;
}

/** A stored quarantine entry. */
export interface StoredQuarantineEntry extends NewQuarantineEntry {
  id: number;
}

/** What a step's file is for (the protocol's FileKind). */
export type StepFileKind = 'artifact' | 'test_results';

/** Input for recording a file a step sent back. */
export interface NewStepFile {
  buildId: number;
  stepId: number;
  kind: StepFileKind;
  /** Relative to the step's working directory, `/`-separated. */
  name: string;
  size: number;
  /** Where its bytes are, relative to the data directory; null when it was skipped. */
  path: string | null;
  createdAt: Millis;
  /** Why it was not stored (too big, over the build's limit...); null when it was. */
  skipped: string | null;
}

/** A file a step sent back, as stored. */
export interface StepFile extends NewStepFile {
  id: number;
}

/** How much one build's stored files take. */
export interface StepFileUsage {
  buildId: number;
  bytes: number;
  /** When its newest file was stored. */
  newestAt: Millis;
}

/** One connection of a worker. */
export interface WorkerSession {
  worker: string;
  connectedAt: Millis;
  disconnectedAt: Millis | null;
}

/** What a worker's admin set through the CLI or API. */
export interface WorkerFlags {
  worker: string;
  paused: boolean;
  pausedBy: string | null;
  pausedAt: Millis | null;
  contact: string | null;
  notes: string | null;
  /** Maintenance windows its admin set (005; empty when none). */
  maintenance: MaintenanceWindow[];
}

/** A maintenance window: opens at each `cron` time (five fields, UTC) and lasts `duration` ms. */
export interface MaintenanceWindow {
  cron: string;
  duration: Millis;
}

/** Where an application stands. */
export type ApplicationState = 'pending' | 'approved' | 'declined';

/** A volunteer's proposal of a worker (`shepherd join`, the web form). */
export interface NewApplication {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  /** The would-be admin, "Name <mail>". */
  contact: string;
  notes: string | null;
  /** SHA-256 (hex) of the token the volunteer holds to collect the outcome; the token itself is never stored. */
  tokenHash: string;
  submittedAt: Millis;
}

/** An application as stored. */
export interface Application extends NewApplication {
  id: number;
  state: ApplicationState;
  decidedBy: string | null;
  decidedAt: Millis | null;
  /** Why it was declined. */
  reason: string | null;
  /** Approved: the worker it created (named by the operator; usually the proposed name). */
  worker: string | null;
}

/** Input for registering a worker on approval. */
export interface NewRegisteredWorker {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  admins: string[];
  notes: string | null;
}

/** A worker created in the database by approving an application (alongside the config file's workers). */
export interface RegisteredWorker extends NewRegisteredWorker {
  applicationId: number;
  createdBy: string;
  createdAt: Millis;
  /** SHA-256 (hex) of its secret; null until the volunteer collected the secret. */
  secretHash: string | null;
  secretCollectedAt: Millis | null;
  retiredBy: string | null;
  retiredAt: Millis | null;
}

/** The farm's health at one time. */
export interface HealthSample {
  /** The start of the sampling interval it stands for (unique). */
  bucket: Millis;
  /** When it was taken. */
  at: Millis;
  score: number;
  /** Each platform's score (0–100) by name. */
  platforms: Record<string, number>;
}

/** How long one build's request waited in the queue. */
export interface QueueWait {
  builder: string;
  worker: string;
  /** When the build started. */
  startedAt: Millis;
  waitMs: Millis;
}
