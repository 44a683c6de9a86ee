/**
 * The database schema as Kysely sees it: one interface per table, columns in
 * snake_case exactly as the migrations leave them (`001_core`, then
 * `002_changes`: changes, heads, blamelists, collapsing, webhook deliveries,
 * try patches, scheduler state; `003_views`: an index; `004_fleet`: worker
 * sessions, admin flags, the alert ledger; `005_join`: maintenance windows,
 * volunteers' applications, registered workers, health samples). Both databases
 * return the same JS types: ids, counters and epoch-millisecond times are
 * numbers (PostgreSQL's int8 is parsed as a number when the pool is opened),
 * JSON is text, booleans are 0/1 integers and log bytes and patches are Buffers.
 * Rows become domain objects in one place per type (`rows.ts`).
 */
import type { ColumnType, Generated, Kysely } from 'kysely';
import type { AlertKind } from '../fleet/types.js';
import type { InstanceState } from '../latent/decide.js';

/** A JSON document stored as text (properties, info, command). */
export type JsonText = string;

/** A boolean stored as 0 or 1 on both databases. */
export type IntBool = 0 | 1;

/** `build_requests`: the queue, and the history of what was asked for. */
export interface BuildRequestsTable {
  id: Generated<number>;
  builder: string;
  priority: number;
  properties: JsonText;
  reason: string;
  submitted_by: string | null;
  submitted_at: number;
  state: 'queued' | 'claimed' | 'complete';
  /** The running build while claimed; no foreign key because builds also points here (SQLite cannot add one later). */
  build_id: number | null;
  result: string | null;
  /** When it became complete (finished or cancelled); not part of the domain type. */
  completed_at: number | null;
  /** The scheduler that queued it (002). */
  scheduler: ColumnType<string | null, string | null | undefined, string | null>;
  /** Same key, same builder: may be collapsed into one build (002). */
  collapse_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** The try patch (002); no foreign key, added to an existing table. */
  patch_id: ColumnType<number | null, number | null | undefined, number | null>;
}

/** `builds`: one attempt at a request, numbered per builder. */
export interface BuildsTable {
  id: Generated<number>;
  request_id: number;
  builder: string;
  number: number;
  worker: string;
  state: 'running' | 'finished';
  result: string | null;
  properties: JsonText;
  started_at: number;
  finished_at: number | null;
  summary: string | null;
}

/** `steps`: one command of a build; `idx` is its position (index is a keyword). */
export interface StepsTable {
  id: Generated<number>;
  build_id: number;
  idx: number;
  name: string;
  state: 'pending' | 'running' | 'finished';
  result: string | null;
  command: JsonText | null;
  workdir: string | null;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  signal: string | null;
  summary: string | null;
  log_bytes: ColumnType<number, number | undefined, number>;
  log_seq: ColumnType<number, number | undefined, number>;
  log_truncated: ColumnType<IntBool, IntBool | undefined, IntBool>;
}

/** `log_chunks`: a step's log as deflate-raw chunks; `offset`/`length` are in uncompressed bytes. */
export interface LogChunksTable {
  id: Generated<number>;
  step_id: number;
  offset: number;
  length: number;
  data: Buffer;
}

/** `workers`: presence and last reported info, keyed by the configured name. */
export interface WorkersTable {
  name: string;
  info: JsonText | null;
  first_seen: number | null;
  last_seen: number | null;
  connected_at: number | null;
}

/** `changes`: one commit on a followed branch, unique per (source, branch, revision). */
export interface ChangesTable {
  id: Generated<number>;
  source: string;
  repository: string;
  branch: string;
  revision: string;
  author: string;
  committer: string;
  message: string;
  /** JSON array of paths. */
  files: JsonText;
  /** Commit time (`when` is a keyword). */
  when_at: number;
  via: 'poll' | 'github' | 'gitlab' | 'gitea';
  received_at: number;
}

/** `change_heads`: the last revision seen on each branch of a change source. */
export interface ChangeHeadsTable {
  source: string;
  branch: string;
  revision: string;
  updated_at: number;
}

/** `request_changes`: the changes a request was queued for. */
export interface RequestChangesTable {
  request_id: number;
  change_id: number;
}

/** `build_changes`: a build's blamelist, the changes of every request it claimed. */
export interface BuildChangesTable {
  build_id: number;
  change_id: number;
}

/** `webhook_deliveries`: delivery ids already handled, so a redelivery is ignored. */
export interface WebhookDeliveriesTable {
  provider: string;
  delivery_id: string;
  received_at: number;
}

/** `patches`: diffs uploaded for try builds, bytes as sent. */
export interface PatchesTable {
  id: Generated<number>;
  source: string;
  base_revision: string;
  branch: string;
  author: string;
  comment: string;
  size_bytes: number;
  data: Buffer;
  created_at: number;
}

/** `scheduler_state`: what a scheduler must remember across restarts (nightly: last run). */
export interface SchedulerStateTable {
  name: string;
  state: JsonText;
  updated_at: number;
}

/** `worker_sessions` (004): one row per connection of a worker; open while `disconnected_at` is null. */
export interface WorkerSessionsTable {
  id: Generated<number>;
  worker: string;
  connected_at: number;
  disconnected_at: number | null;
}

/** `worker_flags` (004): what a worker's admin set (paused, contact, notes); a row only once something was set. */
export interface WorkerFlagsTable {
  worker: string;
  paused: ColumnType<IntBool, IntBool | undefined, IntBool>;
  paused_by: ColumnType<string | null, string | null | undefined, string | null>;
  paused_at: ColumnType<number | null, number | null | undefined, number | null>;
  contact: ColumnType<string | null, string | null | undefined, string | null>;
  notes: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON array of maintenance windows (005); null when none were ever set, or cleared. */
  maintenance: ColumnType<JsonText | null, JsonText | null | undefined, JsonText | null>;
}

/** `fleet_alerts` (004): the ledger of missing-worker mails sent, unique per (worker, episode, kind, sequence). */
export interface FleetAlertsTable {
  id: Generated<number>;
  worker: string;
  /** The disconnection the alert is about (its start). */
  episode: number;
  kind: AlertKind;
  sequence: number;
  /** JSON array of addresses the mail went to. */
  recipients: JsonText;
  sent_at: number;
}

/** `applications` (005): volunteers' proposals of a worker; at most one pending per name. */
export interface ApplicationsTable {
  id: Generated<number>;
  name: string;
  /** JSON object of dimension → value. */
  dimensions: JsonText;
  max_builds: number;
  contact: string;
  notes: string | null;
  /** SHA-256 (hex) of the volunteer's token. */
  token_hash: string;
  submitted_at: number;
  state: 'pending' | 'approved' | 'declined';
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<number | null, number | null | undefined, number | null>;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** The registered worker's name once approved. */
  worker: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `registered_workers` (005): workers approval created, keyed by name; retired ones stay. */
export interface RegisteredWorkersTable {
  name: string;
  application_id: number;
  /** JSON object of dimension → value. */
  dimensions: JsonText;
  max_builds: number;
  /** JSON array of "Name <mail>". */
  admins: JsonText;
  notes: string | null;
  created_by: string;
  created_at: number;
  /** SHA-256 (hex) of the secret, set once when the volunteer collects it. */
  secret_hash: ColumnType<string | null, string | null | undefined, string | null>;
  secret_collected_at: ColumnType<number | null, number | null | undefined, number | null>;
  retired_by: ColumnType<string | null, string | null | undefined, string | null>;
  retired_at: ColumnType<number | null, number | null | undefined, number | null>;
}

/** `health_samples` (005): the farm's health score over time, one row per sampling bucket. */
export interface HealthSamplesTable {
  bucket: number;
  at: number;
  score: number;
  /** JSON object of platform → score. */
  platforms: JsonText;
}

/** `step_files` (006): files steps sent back (artifacts, test results), or announced as skipped. */
export interface StepFilesTable {
  id: Generated<number>;
  build_id: number;
  step_id: number;
  /** `artifact` or `test_results`. */
  kind: string;
  /** Relative to the step's working directory, `/`-separated. */
  name: string;
  size: number;
  /** Where the bytes are, relative to the data directory; null for a skipped file. */
  path: string | null;
  created_at: number;
  /** Why the file was not stored; null when it was. */
  skipped: string | null;
}

/** `test_results` (007): one test's outcome in one step. */
export interface TestResultsTable {
  id: Generated<number>;
  build_id: number;
  step_id: number;
  builder: string;
  worker: string;
  /** The worker's platform when the test ran (config platform, else its dimensions as `k=v ...`). */
  platform: string | null;
  revision: string | null;
  name: string;
  suite: string | null;
  /** passed, failed, error or skipped. */
  result: string;
  duration_ms: number | null;
  message: string | null;
  flaky: ColumnType<IntBool, IntBool | undefined, IntBool>;
  rerun: ColumnType<IntBool, IntBool | undefined, IntBool>;
  quarantined: ColumnType<IntBool, IntBool | undefined, IntBool>;
  at: number;
}

/** `quarantine` (007): quarantine entries added through the API (the config's are not stored). */
export interface QuarantineTable {
  id: Generated<number>;
  /** A test name, or a glob where `*` matches any run of characters. */
  test: string;
  /** JSON array of builder names; null: every builder. */
  builders: JsonText | null;
  reason: string;
  added_by: string;
  added_at: number;
}

/** `debug_sessions` (008): the audit of debug sessions, one row per session asked for. */
export interface DebugSessionsTable {
  id: Generated<number>;
  /** The random session id (what the admin's approval token signs). */
  session: string;
  build_id: number;
  worker: string;
  user_name: string;
  /** JSON array: the one command asked for; null for a shell. */
  command: string | null;
  /** 'pty' or 'pipe' once the worker opened it. */
  mode: ColumnType<string | null, string | null | undefined, string | null>;
  started_at: number;
  ended_at: ColumnType<number | null, number | null | undefined, number | null>;
  exit_code: ColumnType<number | null, number | null | undefined, number | null>;
  refused_reason: ColumnType<string | null, string | null | undefined, string | null>;
  end_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** The asciicast file, relative to the data directory. */
  recording: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `latent_instances` (009): on-demand instances a master started, kept after they stopped; one alive per name. */
export interface LatentInstancesTable {
  id: Generated<number>;
  /** The worker name its agent connects as (`POOL-N`), reused by later instances. */
  name: string;
  pool: string;
  /** The provider kind (`local`, `command`, `ec2`, `kubernetes`). */
  provider: string;
  /** The master that started it. */
  master_id: string;
  /** The provider's handle; null until its start returned. */
  provider_id: ColumnType<string | null, string | null | undefined, string | null>;
  state: InstanceState;
  started_at: number;
  connected_at: ColumnType<number | null, number | null | undefined, number | null>;
  idle_since: ColumnType<number | null, number | null | undefined, number | null>;
  /** Null while alive: the partial unique index on name covers these rows only. */
  stopped_at: ColumnType<number | null, number | null | undefined, number | null>;
  builds: ColumnType<number, number | undefined, number>;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** SHA-256 (hex) of the one-time agent token; null once used or stopped. */
  token_hash: string | null;
  token_expires_at: number | null;
  /** SHA-256 (hex) of the session secret given at the first connection. */
  session_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** The pool's cost_per_hour when it started. */
  cost_per_hour: ColumnType<number, number | undefined, never>;
}

/** The whole schema, for `Kysely<Tables>`. */
export interface Tables {
  build_requests: BuildRequestsTable;
  builds: BuildsTable;
  steps: StepsTable;
  log_chunks: LogChunksTable;
  workers: WorkersTable;
  changes: ChangesTable;
  change_heads: ChangeHeadsTable;
  request_changes: RequestChangesTable;
  build_changes: BuildChangesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  patches: PatchesTable;
  scheduler_state: SchedulerStateTable;
  worker_sessions: WorkerSessionsTable;
  worker_flags: WorkerFlagsTable;
  fleet_alerts: FleetAlertsTable;
  applications: ApplicationsTable;
  registered_workers: RegisteredWorkersTable;
  health_samples: HealthSamplesTable;
  debug_sessions: DebugSessionsTable;
  step_files: StepFilesTable;
  test_results: TestResultsTable;
  quarantine: QuarantineTable;
  latent_instances: LatentInstancesTable;
}

/** A Kysely handle on the schema: the database itself or a transaction in it. */
export type Db = Kysely<Tables>;
