/**
 * Rows to domain objects: the one place per type where snake_case columns,
 * JSON text and 0/1 booleans become the camelCase types of `domain.ts`.
 */
import type { Selectable } from 'kysely';
import type { Build, BuildRequest, Change, Patch, Properties, Result, Step } from '../domain.js';
import type { SentAlert } from '../fleet/types.js';
import type {
  Application,
  HealthSample,
  MaintenanceWindow,
  QueueWait,
  RegisteredWorker,
  StepFile,
  WorkerFlags,
  WorkerRow,
  WorkerSession,
} from './store.js';
import type {
  ApplicationsTable,
  BuildRequestsTable,
  BuildsTable,
  ChangesTable,
  FleetAlertsTable,
  HealthSamplesTable,
  PatchesTable,
  RegisteredWorkersTable,
  StepFilesTable,
  StepsTable,
  WorkerFlagsTable,
  WorkersTable,
  WorkerSessionsTable,
} from './tables.js';

/** A `build_requests` row as selected. */
export type RequestRow = Selectable<BuildRequestsTable>;
/** A `builds` row as selected. */
export type BuildRow = Selectable<BuildsTable>;
/** A `steps` row as selected. */
export type StepRow = Selectable<StepsTable>;
/** A `workers` row as selected. */
export type WorkerTableRow = Selectable<WorkersTable>;
/** A `worker_sessions` row as selected. */
export type WorkerSessionRow = Selectable<WorkerSessionsTable>;
/** A `worker_flags` row as selected. */
export type WorkerFlagsRow = Selectable<WorkerFlagsTable>;
/** A `fleet_alerts` row as selected. */
export type FleetAlertRow = Selectable<FleetAlertsTable>;
/** An `applications` row as selected. */
export type ApplicationRow = Selectable<ApplicationsTable>;
/** A `registered_workers` row as selected. */
export type RegisteredWorkerRow = Selectable<RegisteredWorkersTable>;
/** A `health_samples` row as selected. */
export type HealthSampleRow = Selectable<HealthSamplesTable>;
/** A build joined to its own request, as `listQueueWaits` selects it. */
export interface QueueWaitRow {
  builder: string;
  worker: string;
  started_at: number;
  wait_ms: number;
}
/** A `changes` row as selected. */
export type ChangeRow = Selectable<ChangesTable>;
/** A `patches` row as selected, without its bytes (they are read only when asked for). */
export type PatchRow = Omit<Selectable<PatchesTable>, 'data'>;

/** A build request row as the domain sees it; its change ids live in `request_changes`, loaded by the caller. */
export function toRequest(row: RequestRow, changeIds: number[]): BuildRequest {
  return {
    id: row.id,
    builder: row.builder,
    priority: row.priority,
    properties: JSON.parse(row.properties) as Properties,
    reason: row.reason,
    submittedBy: row.submitted_by,
    submittedAt: row.submitted_at,
    state: row.state,
    buildId: row.build_id,
    result: row.result as Result | null,
    scheduler: row.scheduler,
    collapseKey: row.collapse_key,
    patchId: row.patch_id,
    changeIds,
  };
}

/** A build row as the domain sees it. */
export function toBuild(row: BuildRow): Build {
  return {
    id: row.id,
    requestId: row.request_id,
    builder: row.builder,
    number: row.number,
    worker: row.worker,
    state: row.state,
    result: row.result as Result | null,
    properties: JSON.parse(row.properties) as Properties,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    summary: row.summary,
  };
}

/** A step row as the domain sees it. */
export function toStep(row: StepRow): Step {
  return {
    id: row.id,
    buildId: row.build_id,
    index: row.idx,
    name: row.name,
    state: row.state,
    result: row.result as Result | null,
    command: row.command === null ? null : (JSON.parse(row.command) as string[] | string),
    workdir: row.workdir,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code,
    signal: row.signal,
    summary: row.summary,
    logBytes: row.log_bytes,
    logSeq: row.log_seq,
    logTruncated: row.log_truncated === 1,
  };
}

/** A worker row as the store reports it. */
export function toWorker(row: WorkerTableRow): WorkerRow {
  return {
    name: row.name,
    info: row.info === null ? null : (JSON.parse(row.info) as Record<string, unknown>),
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    connectedAt: row.connected_at,
  };
}

/** A change row as the domain sees it. */
export function toChange(row: ChangeRow): Change {
  return {
    id: row.id,
    source: row.source,
    repository: row.repository,
    branch: row.branch,
    revision: row.revision,
    author: row.author,
    committer: row.committer,
    message: row.message,
    files: JSON.parse(row.files) as string[],
    when: row.when_at,
    via: row.via,
    receivedAt: row.received_at,
  };
}

/** A patch row (without its bytes) as the domain sees it. */
export function toPatch(row: PatchRow): Patch {
  return {
    id: row.id,
    source: row.source,
    baseRevision: row.base_revision,
    branch: row.branch,
    author: row.author,
    comment: row.comment,
    sizeBytes: row.size_bytes,
    createdAt: row.created_at,
  };
}

/** A worker session row as the store reports it. */
export function toWorkerSession(row: WorkerSessionRow): WorkerSession {
  return { worker: row.worker, connectedAt: row.connected_at, disconnectedAt: row.disconnected_at };
}

/** A worker's admin flags as the store reports them. */
export function toWorkerFlags(row: WorkerFlagsRow): WorkerFlags {
  return {
    worker: row.worker,
    paused: row.paused === 1,
    pausedBy: row.paused_by,
    pausedAt: row.paused_at,
    contact: row.contact,
    notes: row.notes,
    maintenance: row.maintenance === null ? [] : (JSON.parse(row.maintenance) as MaintenanceWindow[]),
  };
}

/** A ledger row as the alert it records. */
export function toSentAlert(row: FleetAlertRow): SentAlert {
  return {
    kind: row.kind,
    worker: row.worker,
    episode: row.episode,
    sequence: row.sequence,
    to: JSON.parse(row.recipients) as string[],
    sentAt: row.sent_at,
  };
}

/** An application row as the store reports it. */
export function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    name: row.name,
    dimensions: JSON.parse(row.dimensions) as Record<string, string>,
    maxBuilds: row.max_builds,
    contact: row.contact,
    notes: row.notes,
    tokenHash: row.token_hash,
    submittedAt: row.submitted_at,
    state: row.state,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
    worker: row.worker,
  };
}

/** A registered worker row as the store reports it. */
export function toRegisteredWorker(row: RegisteredWorkerRow): RegisteredWorker {
  return {
    name: row.name,
    applicationId: row.application_id,
    dimensions: JSON.parse(row.dimensions) as Record<string, string>,
    maxBuilds: row.max_builds,
    admins: JSON.parse(row.admins) as string[],
    notes: row.notes,
    createdBy: row.created_by,
    createdAt: row.created_at,
    secretHash: row.secret_hash,
    secretCollectedAt: row.secret_collected_at,
    retiredBy: row.retired_by,
    retiredAt: row.retired_at,
  };
}

/** A health sample row as the store reports it. */
export function toHealthSample(row: HealthSampleRow): HealthSample {
  return { bucket: row.bucket, at: row.at, score: row.score, platforms: JSON.parse(row.platforms) as Record<string, number> };
}

/** A build's start and its request's wait as the store reports them. */
export function toQueueWait(row: QueueWaitRow): QueueWait {
  return { builder: row.builder, worker: row.worker, startedAt: row.started_at, waitMs: row.wait_ms };
}

/** A `step_files` row as selected. */
export type StepFileRow = Selectable<StepFilesTable>;

/** A stored (or skipped) file of a step. */
export function toStepFile(row: StepFileRow): StepFile {
  return {
    id: row.id,
    buildId: row.build_id,
    stepId: row.step_id,
    kind: row.kind as StepFile['kind'],
    name: row.name,
    size: row.size,
    path: row.path,
    createdAt: row.created_at,
    skipped: row.skipped,
  };
}
