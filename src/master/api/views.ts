/**
 * Domain objects as the API shows them: snake_case JSON whose shapes are the
 * response schemas of `schemas.ts` (the types come from there, so a view and
 * its documentation cannot drift).
 */
import type { BuilderConfig } from '../config/schema.js';
import type { Build, BuildRequest, Change, Patch, Step } from '../domain.js';
import type { ChangeBuild } from '../store/store.js';
import type { LatentInstanceView, WorkerView } from './control.js';
import type {
  BuilderJson,
  BuildDetailJson,
  BuildJson,
  ChangeJson,
  ChangeWithBuildsJson,
  PatchJson,
  RequestJson,
  StepJson,
  InstanceJson,
  WorkerJson,
} from './schemas.js';

/** A build without its steps. */
export function buildJson(build: Build): BuildJson {
  return {
    id: build.id,
    number: build.number,
    builder: build.builder,
    worker: build.worker,
    state: build.state,
    result: build.result,
    properties: build.properties,
    request_id: build.requestId,
    revision: build.properties.got_revision || build.properties.revision || null,
    started_at: build.startedAt,
    finished_at: build.finishedAt,
    summary: build.summary,
  };
}

/** The URL of a step's raw log. */
export function stepLogUrl(stepId: number): string {
  return `/api/v1/steps/${stepId}/log`;
}

/** One step, with its log's size and URL. */
export function stepJson(step: Step): StepJson {
  return {
    id: step.id,
    index: step.index,
    name: step.name,
    state: step.state,
    result: step.result,
    command: step.command,
    workdir: step.workdir,
    started_at: step.startedAt,
    finished_at: step.finishedAt,
    exit_code: step.exitCode,
    signal: step.signal,
    summary: step.summary,
    log: { bytes: step.logBytes, truncated: step.logTruncated, url: stepLogUrl(step.id) },
  };
}

/** A build with its steps in order and its blamelist. */
export function buildDetailJson(build: Build, steps: readonly Step[], blamelist: readonly Change[]): BuildDetailJson {
  return { ...buildJson(build), steps: [...steps].sort((a, b) => a.index - b.index).map(stepJson), blamelist: blamelist.map(changeJson) };
}

/** A change. */
export function changeJson(change: Change): ChangeJson {
  return {
    id: change.id,
    source: change.source,
    repository: change.repository,
    branch: change.branch,
    revision: change.revision,
    author: change.author,
    committer: change.committer,
    message: change.message,
    files: change.files,
    when: change.when,
    via: change.via,
    received_at: change.receivedAt,
  };
}

/** A change with the builds that built it. */
export function changeWithBuildsJson(change: Change, builds: readonly ChangeBuild[]): ChangeWithBuildsJson {
  return {
    ...changeJson(change),
    builds: builds
      .filter((b) => b.changeId === change.id)
      .map((b) => ({ id: b.buildId, builder: b.builder, number: b.number, state: b.state, result: b.result })),
  };
}

/** A stored try patch (without its bytes). */
export function patchJson(patch: Patch): PatchJson {
  return {
    id: patch.id,
    source: patch.source,
    base_revision: patch.baseRevision,
    branch: patch.branch,
    author: patch.author,
    comment: patch.comment,
    size_bytes: patch.sizeBytes,
    created_at: patch.createdAt,
  };
}

/** A build request. */
export function requestJson(request: BuildRequest): RequestJson {
  return {
    id: request.id,
    builder: request.builder,
    priority: request.priority,
    properties: request.properties,
    reason: request.reason,
    submitted_by: request.submittedBy,
    submitted_at: request.submittedAt,
    state: request.state,
    build_id: request.buildId,
    result: request.result,
    scheduler: request.scheduler,
    patch_id: request.patchId,
    change_ids: request.changeIds,
  };
}

/** A configured builder with its last finished build. */
export function builderJson(builder: Readonly<BuilderConfig>, lastBuild: Build | undefined): BuilderJson {
  return {
    name: builder.name,
    tags: [...builder.tags],
    workers: Array.isArray(builder.workers) ? [...builder.workers] : { ...builder.workers },
    steps: builder.steps.map((step) => step.name),
    priority: builder.priority,
    properties: { ...builder.properties },
    last_build: lastBuild ? buildJson(lastBuild) : null,
  };
}

/** A request with, while it is queued, why it waits (when an on-demand pool decided about it). */
export function waitingRequestJson(request: BuildRequest, latent: { waitingReason(requestId: number): string | null } | undefined): RequestJson {
  return request.state === 'queued' ? { ...requestJson(request), waiting: latent?.waitingReason(request.id) ?? null } : requestJson(request);
}

/** An on-demand instance's life and cost. */
export function instanceJson(instance: LatentInstanceView): InstanceJson {
  return {
    id: instance.id,
    name: instance.name,
    pool: instance.pool,
    provider: instance.provider,
    provider_id: instance.providerId,
    state: instance.state,
    started_at: instance.startedAt,
    connected_at: instance.connectedAt,
    stopped_at: instance.stoppedAt,
    builds: instance.builds,
    reason: instance.reason,
    cost: instance.cost,
  };
}

/** A worker's live state. */
export function workerJson(worker: WorkerView): WorkerJson {
  return {
    name: worker.name,
    dimensions: worker.dimensions,
    max_builds: worker.maxBuilds,
    state: worker.state,
    connected: worker.connected,
    builds: worker.builds,
    info: worker.info,
    protocol: worker.protocol,
    connected_at: worker.connectedAt,
    last_seen: worker.lastSeen,
    admins: worker.admins,
    admin_mismatch: worker.adminMismatch,
    notes: worker.notes,
    paused: worker.paused,
    uptime: { ...worker.uptime },
    builds_run: worker.buildsRun,
    source: worker.source,
    instance: worker.instance ? instanceJson(worker.instance) : null,
    maintenance: worker.maintenance.map((w) => ({ cron: w.cron, duration_ms: w.duration, from: w.from })),
  };
}
