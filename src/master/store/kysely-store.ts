/**
 * The Store over Kysely: the same queries for SQLite and PostgreSQL, one
 * module per concept (requests, builds, steps, logs, workers, changes,
 * webhook deliveries, patches, scheduler state, the views' overview and
 * grid, the fleet's worker flags and alert ledger, applications and
 * registered workers, health samples, queue waits). This class only binds
 * them to a database; `openStore` builds it.
 */
import type { Kysely } from 'kysely';
import type { Build, BuildRequest, Change, Millis, NewChange, Patch, Properties, Result, Step } from '../domain.js';
import type { SentAlert } from '../fleet/types.js';
import * as applications from './applications.js';
import * as builds from './builds.js';
import * as changes from './changes.js';
import * as alerts from './fleet-alerts.js';
import * as grid from './grid.js';
import * as healthSamples from './health-samples.js';
import { KeyedSerializer } from './keyed-serializer.js';
import * as logs from './logs.js';
import * as overview from './overview.js';
import type { Dialect } from './migrations.js';
import * as patches from './patches.js';
import * as queueWaits from './queue-waits.js';
import * as requests from './requests.js';
import * as schedulerState from './scheduler-state.js';
import * as stepFiles from './step-files.js';
import * as steps from './steps.js';
import * as testResults from './test-results.js';
import type { BuildTests, NewQuarantineEntry, NewTestResult, StoredQuarantineEntry, StoredTestResult, TestRun } from './store.js';
import type {
  Application,
  ApplicationState,
  BuildQuery,
  ChangeBuild,
  ChangeQuery,
  FailingStreak,
  HealthSample,
  MaintenanceWindow,
  NewApplication,
  NewBuild,
  NewPatch,
  NewRegisteredWorker,
  NewRequest,
  NewStepFile,
  QueueSummary,
  QueueWait,
  RegisteredWorker,
  StepFile,
  StepFileKind,
  StepFileUsage,
  Store,
  WorkerFlags,
  WorkerRow,
  WorkerSession,
} from './store.js';
import type { Tables } from './tables.js';
import * as deliveries from './webhook-deliveries.js';
import * as workerFlags from './worker-flags.js';
import * as workers from './workers.js';
import * as debugSessions from './debug-sessions.js';
import type { DebugSessionEnd, DebugSessionRecord, NewDebugSession } from './debug-sessions.js';
import * as latentInstances from './latent-instances.js';
import type { LatentInstanceFilter, LatentInstancePatch, LatentInstanceRecord, NewLatentInstance } from './latent-instances.js';

/** A Store on an open, migrated Kysely database; it owns the database and closes it. */
export class KyselyStore implements Store {
  readonly dialect: Dialect;
  readonly #db: Kysely<Tables>;
  #closing: Promise<void> | undefined;
  /** One build start at a time per builder, so numbering does not race within this process. */
  readonly #startsByBuilder = new KeyedSerializer();

  constructor(db: Kysely<Tables>, dialect: Dialect) {
    this.#db = db;
    this.dialect = dialect;
  }

  enqueueRequest(request: NewRequest): Promise<BuildRequest> {
    return requests.enqueueRequest(this.#db, request);
  }

  listQueuedRequests(): Promise<BuildRequest[]> {
    return requests.listQueuedRequests(this.#db);
  }

  getRequest(id: number): Promise<BuildRequest | undefined> {
    return requests.getRequest(this.#db, id);
  }

  cancelQueuedRequest(id: number, at: Millis): Promise<BuildRequest | undefined> {
    return requests.cancelQueuedRequest(this.#db, id, at);
  }

  startBuild(input: NewBuild): Promise<{ build: Build; steps: Step[]; request: BuildRequest } | undefined> {
    return this.#startsByBuilder.run(input.builder, () => builds.startBuild(this.#db, input));
  }

  finishBuild(
    buildId: number,
    end: { result: Result; summary: string | null; finishedAt: Millis; requeue: boolean },
  ): Promise<{ build: Build; request: BuildRequest }> {
    return builds.finishBuild(this.#db, buildId, end);
  }

  getBuild(id: number): Promise<Build | undefined> {
    return builds.getBuild(this.#db, id);
  }

  updateBuildProperties(buildId: number, properties: Properties): Promise<Build> {
    return builds.updateBuildProperties(this.#db, buildId, properties);
  }

  getBuildByNumber(builder: string, number: number): Promise<Build | undefined> {
    return builds.getBuildByNumber(this.#db, builder, number);
  }

  listBuilds(query: BuildQuery): Promise<Build[]> {
    return builds.listBuilds(this.#db, query);
  }

  lastBuildPerBuilder(): Promise<Build[]> {
    return builds.lastBuildPerBuilder(this.#db);
  }

  countBuildsByWorker(): Promise<Record<string, number>> {
    return builds.countBuildsByWorker(this.#db);
  }

  getSteps(buildId: number): Promise<Step[]> {
    return steps.getSteps(this.#db, buildId);
  }

  getStep(id: number): Promise<Step | undefined> {
    return steps.getStep(this.#db, id);
  }

  markStepStarted(stepId: number, start: { command: string[] | string; workdir: string; startedAt: Millis }): Promise<Step> {
    return steps.markStepStarted(this.#db, stepId, start);
  }

  finishStep(
    stepId: number,
    end: { result: Result; exitCode: number | null; signal: string | null; summary: string | null; finishedAt: Millis },
  ): Promise<Step> {
    return steps.finishStep(this.#db, stepId, end);
  }

  appendLog(stepId: number, data: Buffer, lastSeq: number, truncated?: boolean): Promise<void> {
    return logs.appendLog(this.#db, stepId, data, lastSeq, truncated);
  }

  setLogSeq(stepId: number, lastSeq: number): Promise<void> {
    return logs.setLogSeq(this.#db, stepId, lastSeq);
  }

  readLog(stepId: number, start?: number, end?: number): AsyncIterable<Buffer> {
    return logs.readLog(this.#db, stepId, start, end);
  }

  recordWorkerConnected(name: string, info: Record<string, unknown>, at: Millis): Promise<void> {
    return workers.recordWorkerConnected(this.#db, name, info, at);
  }

  recordWorkerDisconnected(name: string, at: Millis): Promise<void> {
    return workers.recordWorkerDisconnected(this.#db, name, at);
  }

  resetWorkerConnections(at: Millis): Promise<void> {
    return workers.resetWorkerConnections(this.#db, at);
  }

  listWorkers(): Promise<WorkerRow[]> {
    return workers.listWorkers(this.#db);
  }

  recordChanges(source: string, newChanges: NewChange[], heads: Record<string, string | null>, at: Millis): Promise<Change[]> {
    return changes.recordChanges(this.#db, source, newChanges, heads, at);
  }

  getHeads(source: string): Promise<Record<string, string>> {
    return changes.getHeads(this.#db, source);
  }

  getChange(id: number): Promise<Change | undefined> {
    return changes.getChange(this.#db, id);
  }

  getChanges(ids: number[]): Promise<Change[]> {
    return changes.getChanges(this.#db, ids);
  }

  listChanges(query: ChangeQuery): Promise<Change[]> {
    return changes.listChanges(this.#db, query);
  }

  buildsOfChanges(changeIds: number[]): Promise<ChangeBuild[]> {
    return changes.buildsOfChanges(this.#db, changeIds);
  }

  getBlamelist(buildId: number): Promise<Change[]> {
    return changes.getBlamelist(this.#db, buildId);
  }

  latestChange(source: string, branch: string): Promise<Change | undefined> {
    return changes.latestChange(this.#db, source, branch);
  }

  recordDelivery(provider: string, deliveryId: string, at: Millis): Promise<boolean> {
    return deliveries.recordDelivery(this.#db, provider, deliveryId, at);
  }

  addPatch(patch: NewPatch): Promise<Patch> {
    return patches.addPatch(this.#db, patch);
  }

  getPatch(id: number): Promise<(Patch & { data: Buffer }) | undefined> {
    return patches.getPatch(this.#db, id);
  }

  failingStreaks(builders: readonly string[]): Promise<FailingStreak[]> {
    return overview.failingStreaks(this.#db, builders);
  }

  queueSummary(): Promise<QueueSummary> {
    return overview.queueSummary(this.#db);
  }

  gridBuilds(changeIds: readonly number[], builders: readonly string[]): Promise<ChangeBuild[]> {
    return grid.gridBuilds(this.#db, changeIds, builders);
  }

  getSchedulerState(name: string): Promise<Record<string, unknown> | undefined> {
    return schedulerState.getSchedulerState(this.#db, name);
  }

  setSchedulerState(name: string, state: Record<string, unknown>): Promise<void> {
    return schedulerState.setSchedulerState(this.#db, name, state);
  }

  listWorkerSessions(worker: string, since: Millis): Promise<WorkerSession[]> {
    return workers.listWorkerSessions(this.#db, worker, since);
  }

  listAllWorkerSessions(since: Millis): Promise<WorkerSession[]> {
    return workers.listAllWorkerSessions(this.#db, since);
  }

  setWorkerPaused(worker: string, paused: boolean, by: string, at: Millis): Promise<void> {
    return workerFlags.setWorkerPaused(this.#db, worker, paused, by, at);
  }

  setWorkerContact(worker: string, contact: string | null, notes: string | null): Promise<void> {
    return workerFlags.setWorkerContact(this.#db, worker, contact, notes);
  }

  getWorkerFlags(): Promise<WorkerFlags[]> {
    return workerFlags.getWorkerFlags(this.#db);
  }

  recordAlerts(sent: SentAlert[]): Promise<boolean[]> {
    return alerts.recordAlerts(this.#db, sent);
  }

  listAlerts(filter: { worker?: string; episode?: Millis }): Promise<SentAlert[]> {
    return alerts.listAlerts(this.#db, filter);
  }

  setWorkerMaintenance(worker: string, windows: MaintenanceWindow[]): Promise<void> {
    return workerFlags.setWorkerMaintenance(this.#db, worker, windows);
  }

  createApplication(application: NewApplication): Promise<Application> {
    return applications.createApplication(this.#db, application);
  }

  getApplication(id: number): Promise<Application | undefined> {
    return applications.getApplication(this.#db, id);
  }

  listApplications(filter: { state?: ApplicationState }): Promise<Application[]> {
    return applications.listApplications(this.#db, filter);
  }

  approveApplication(
    id: number,
    decision: { by: string; at: Millis; worker: NewRegisteredWorker },
  ): Promise<{ application: Application; worker: RegisteredWorker } | undefined> {
    return applications.approveApplication(this.#db, id, decision);
  }

  declineApplication(id: number, decision: { by: string; at: Millis; reason: string }): Promise<Application | undefined> {
    return applications.declineApplication(this.#db, id, decision);
  }

  collectWorkerSecret(applicationId: number, secretHash: string, at: Millis): Promise<boolean> {
    return applications.collectWorkerSecret(this.#db, applicationId, secretHash, at);
  }

  listRegisteredWorkers(): Promise<RegisteredWorker[]> {
    return applications.listRegisteredWorkers(this.#db);
  }

  retireWorker(name: string, by: string, at: Millis): Promise<RegisteredWorker | undefined> {
    return applications.retireWorker(this.#db, name, by, at);
  }

  recordHealthSample(sample: HealthSample): Promise<boolean> {
    return healthSamples.recordHealthSample(this.#db, sample);
  }

  listHealthSamples(since: Millis): Promise<HealthSample[]> {
    return healthSamples.listHealthSamples(this.#db, since);
  }

  listQueueWaits(since: Millis): Promise<QueueWait[]> {
    return queueWaits.listQueueWaits(this.#db, since);
  }

  addStepFile(file: NewStepFile): Promise<StepFile | undefined> {
    return stepFiles.addStepFile(this.#db, file);
  }

  listStepFiles(filter: { buildId?: number; stepId?: number; kind?: StepFileKind }): Promise<StepFile[]> {
    return stepFiles.listStepFiles(this.#db, filter);
  }

  getStepFile(id: number): Promise<StepFile | undefined> {
    return stepFiles.getStepFile(this.#db, id);
  }

  stepFileUsage(): Promise<StepFileUsage[]> {
    return stepFiles.stepFileUsage(this.#db);
  }

  deleteStepFiles(buildIds: readonly number[]): Promise<number> {
    return stepFiles.deleteStepFiles(this.#db, buildIds);
  }

  addTestResults(results: readonly NewTestResult[]): Promise<number[]> {
    return testResults.addTestResults(this.#db, results);
  }

  listBuildTests(buildId: number, page: { offset: number; limit: number; failuresOnly?: boolean }): Promise<BuildTests> {
    return testResults.listBuildTests(this.#db, buildId, page);
  }

  testHistory(name: string, filter: { builder?: string; beforeId?: number; limit: number }): Promise<StoredTestResult[]> {
    return testResults.testHistory(this.#db, name, filter);
  }

  testOutcomesAtRevision(revision: string, filter: { names?: readonly string[]; failuresOnly?: boolean }): Promise<TestRun[]> {
    return testResults.testOutcomesAtRevision(this.#db, revision, filter);
  }

  markTestsFlaky(ids: readonly number[]): Promise<void> {
    return testResults.markTestsFlaky(this.#db, ids);
  }

  listQuarantine(): Promise<StoredQuarantineEntry[]> {
    return testResults.listQuarantine(this.#db);
  }

  addQuarantine(entry: NewQuarantineEntry): Promise<StoredQuarantineEntry> {
    return testResults.addQuarantine(this.#db, entry);
  }

  removeQuarantine(id: number): Promise<boolean> {
    return testResults.removeQuarantine(this.#db, id);
  }

  createDebugSession(input: NewDebugSession): Promise<DebugSessionRecord> {
    return debugSessions.createDebugSession(this.#db, input);
  }

  markDebugSessionOpened(session: string, opened: { mode: 'pty' | 'pipe'; recording: string }): Promise<void> {
    return debugSessions.markDebugSessionOpened(this.#db, session, opened);
  }

  finishDebugSession(session: string, end: DebugSessionEnd): Promise<void> {
    return debugSessions.finishDebugSession(this.#db, session, end);
  }

  getDebugSession(session: string): Promise<DebugSessionRecord | undefined> {
    return debugSessions.getDebugSession(this.#db, session);
  }

  listDebugSessions(buildId: number): Promise<DebugSessionRecord[]> {
    return debugSessions.listDebugSessions(this.#db, buildId);
  }

  createLatentInstance(instance: NewLatentInstance): Promise<LatentInstanceRecord> {
    return latentInstances.createLatentInstance(this.#db, instance);
  }

  updateLatentInstance(id: number, patch: LatentInstancePatch): Promise<LatentInstanceRecord | undefined> {
    return latentInstances.updateLatentInstance(this.#db, id, patch);
  }

  getLatentInstance(id: number): Promise<LatentInstanceRecord | undefined> {
    return latentInstances.getLatentInstance(this.#db, id);
  }

  listLatentInstances(filter: LatentInstanceFilter): Promise<LatentInstanceRecord[]> {
    return latentInstances.listLatentInstances(this.#db, filter);
  }

  /** Closes the database (the SQLite handle or the PostgreSQL pool); calling it again is harmless. */
  close(): Promise<void> {
    this.#closing ??= this.#db.destroy();
    return this.#closing;
  }
}
