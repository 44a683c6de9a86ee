/**
 * The `shepherd` command's HTTP client: one function per API call. Errors
 * become CliErrors: an API error keeps its message and catalogue code, a
 * network error names the master's URL and how to point elsewhere.
 */
import type {
  ApplicationJson,
  ArtifactListJson,
  ApplicationStatusJson,
  BuildDetailJson,
  BuildListJson,
  BuildTestsJson,
  ChangeWithBuildsJson,
  CostJson,
  CoverageJson,
  HealthHistoryJson,
  HealthJson,
  InstanceJson,
  JoinReplyJson,
  RequestJson,
  RetiredWorkerJson,
  SchedulerJson,
  TestHistoryJson,
  WorkerJson,
} from '../master/api/schemas.js';
import type { ErrorBody } from '../master/errors.js';
import type { ChangeListJson, TryAnswerJson } from './api-types.js';
import { CliError } from './errors.js';
import { parseServerSentEvents, type ServerSentEvent } from './sse.js';

/** Where the master is and how to authenticate writes. */
export interface MasterConnection {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8010. */
  url: string;
  token: string | undefined;
}

type Query = Record<string, string | number | boolean | undefined>;

function urlOf(conn: MasterConnection, path: string, query: Query = {}): string {
  const url = new URL(conn.url + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** Sends one request; returns the response when it is 2xx, throws a CliError otherwise. */
async function send(
  conn: MasterConnection,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal; accept?: string; authorize?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  // Reads go without the token unless the call needs it (a list that carries volunteers' contacts).
  if (conn.token && (method !== 'GET' || options.authorize)) headers.authorization = `Bearer ${conn.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(urlOf(conn, path, options.query), {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw networkError(conn, error);
  }
  if (!response.ok) throw await apiError(conn, response);
  return response;
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

function networkError(conn: MasterConnection, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(
    `cannot reach the master at ${conn.url} (${why}); is it running? Pass --master URL or set SHEPHERD_MASTER`,
    { cause: error },
  );
}

async function apiError(conn: MasterConnection, response: Response): Promise<CliError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (body.error?.code && body.error.message) return new CliError(body.error.message, { code: body.error.code });
  } catch {
    // Not our error shape: a proxy or another server answered.
  }
  return new CliError(`${conn.url} answered HTTP ${response.status} ${response.statusText}; is --master the Shepherd master?`);
}

/** `GET /api/v1/builds/:id/tests`: one page of a build's tests, failures first. */
export async function getBuildTests(conn: MasterConnection, buildId: number, page: { offset?: number; limit?: number; failures?: boolean }): Promise<BuildTestsJson> {
  const query = { offset: page.offset, limit: page.limit, failures: page.failures ? 1 : undefined };
  return json<BuildTestsJson>(await send(conn, 'GET', `/api/v1/builds/${buildId}/tests`, { query }));
}

/** `GET /api/v1/tests/history`: a test's runs, newest first, and what separates where it fails. */
export async function getTestHistory(conn: MasterConnection, name: string, filter: { builder?: string; limit?: number }): Promise<TestHistoryJson> {
  return json<TestHistoryJson>(await send(conn, 'GET', '/api/v1/tests/history', { query: { name, builder: filter.builder, limit: filter.limit } }));
}

/** `POST /api/v1/debug/:session/approve`: passes the admin's approval token on to the worker (no API token: the approval proves itself). */
export async function approveDebugSession(conn: MasterConnection, session: string, token: string): Promise<{ approved?: boolean }> {
  const response = await send({ ...conn, token: undefined }, 'POST', `/api/v1/debug/${encodeURIComponent(session)}/approve`, { body: { token } });
  return json<{ approved?: boolean }>(response);
}

/** `GET /api/v1/builds/:id/artifacts`: the files its steps sent back. */
export async function listArtifacts(conn: MasterConnection, buildId: number): Promise<ArtifactListJson> {
  return json<ArtifactListJson>(await send(conn, 'GET', `/api/v1/builds/${buildId}/artifacts`));
}

/** `GET /api/v1/builds/:id/artifacts/PATH[?step=&kind=]`: one stored file, as a streamed response (`path` already URL-encoded). */
export function downloadArtifact(conn: MasterConnection, buildId: number, path: string): Promise<Response> {
  return send(conn, 'GET', `/api/v1/builds/${buildId}/artifacts/${path}`, { accept: 'application/octet-stream' });
}

/** `POST /api/v1/debug/:session/end`: passes the admin's end token on to the worker. */
export async function endDebugSession(conn: MasterConnection, session: string, token: string): Promise<{ ended?: boolean }> {
  const response = await send({ ...conn, token: undefined }, 'POST', `/api/v1/debug/${encodeURIComponent(session)}/end`, { body: { token } });
  return json<{ ended?: boolean }>(response);
}

/** Body of `POST /builds/:id/rebuild`. */
export interface RebuildRequestBody {
  properties?: Record<string, string>;
  env?: Record<string, string>;
  reason?: string;
  submitted_by?: string;
}

/** `GET /api/v1/builds/:id/repro`: the script (format sh) or its parts (format json, as text). */
export async function getRepro(conn: MasterConnection, id: number, format: 'sh' | 'json'): Promise<string> {
  const accept = format === 'json' ? 'application/json' : 'text/x-shellscript';
  const response = await send(conn, 'GET', `/api/v1/builds/${id}/repro`, { accept, query: { format: format === 'json' ? 'json' : undefined } });
  return response.text();
}

/** `POST /api/v1/builds/:id/rebuild`: queues the rebuild. */
export async function rebuildBuild(conn: MasterConnection, id: number, body: RebuildRequestBody): Promise<RequestJson> {
  const response = await send(conn, 'POST', `/api/v1/builds/${id}/rebuild`, { body });
  return (await json<{ request: RequestJson }>(response)).request;
}

/** Body of `POST /builders/:name/force`. */
export interface ForceRequestBody {
  properties?: Record<string, string>;
  reason?: string;
  priority?: number;
  submitted_by?: string;
}

/** `POST /api/v1/builders/:name/force`: queues a build request. */
export async function forceBuild(conn: MasterConnection, builder: string, body: ForceRequestBody): Promise<RequestJson> {
  const response = await send(conn, 'POST', `/api/v1/builders/${encodeURIComponent(builder)}/force`, { body });
  return (await json<{ request: RequestJson }>(response)).request;
}

/** `POST /api/v1/workers/:name/pause|resume|contact`: a worker's admin settings (conn.token: the worker's secret or the API token). */
export async function setWorkerAdmin(
  conn: MasterConnection,
  worker: string,
  action: 'pause' | 'resume' | 'contact',
  body: Record<string, string> = {},
): Promise<WorkerJson> {
  return json(await send(conn, 'POST', `/api/v1/workers/${encodeURIComponent(worker)}/${action}`, { body }));
}

/** `POST /api/v1/workers/:name/maintenance`: replaces the windows its admin set (conn.token: the worker's secret or the API token). */
export async function setWorkerMaintenance(
  conn: MasterConnection,
  worker: string,
  windows: readonly { cron: string; duration: string }[],
): Promise<WorkerJson> {
  return json(await send(conn, 'POST', `/api/v1/workers/${encodeURIComponent(worker)}/maintenance`, { body: { windows } }));
}

/** `POST /api/v1/workers/:name/retire`: a registered worker stops connecting; its history stays. */
export async function retireWorker(conn: MasterConnection, worker: string, by: string): Promise<RetiredWorkerJson> {
  return json(await send(conn, 'POST', `/api/v1/workers/${encodeURIComponent(worker)}/retire`, { body: { by } }));
}

/** `GET /api/v1/retired-workers`: most recently retired first. */
export async function listRetiredWorkers(conn: MasterConnection): Promise<RetiredWorkerJson[]> {
  return (await json<{ workers: RetiredWorkerJson[] }>(await send(conn, 'GET', '/api/v1/retired-workers'))).workers;
}

/** Body of `POST /api/v1/applications`. */
export interface JoinRequestBody {
  name: string;
  dimensions: Record<string, string>;
  max_builds?: number;
  contact: string;
  notes?: string;
}

/** `POST /api/v1/applications`: offers a worker (no token needed); the answer holds the application's token. */
export async function submitApplication(conn: MasterConnection, body: JoinRequestBody): Promise<JoinReplyJson> {
  return json(await send(conn, 'POST', '/api/v1/applications', { body }));
}

/** `POST /api/v1/applications/:id/status` (conn.token: the application's token): collects the secret once approved. */
export async function getApplicationStatus(conn: MasterConnection, id: number): Promise<ApplicationStatusJson> {
  return json(await send(conn, 'POST', `/api/v1/applications/${id}/status`, { body: {} }));
}

/** `GET /api/v1/applications` (needs the API token): newest first. */
export async function listApplications(conn: MasterConnection, state?: string): Promise<ApplicationJson[]> {
  const response = await send(conn, 'GET', '/api/v1/applications', { query: { state }, authorize: true });
  return (await json<{ applications: ApplicationJson[] }>(response)).applications;
}

/** `POST /api/v1/applications/:id/approve`: creates the worker. */
export async function approveApplication(
  conn: MasterConnection,
  id: number,
  body: { by: string; name?: string; max_builds?: number },
): Promise<ApplicationJson> {
  return json(await send(conn, 'POST', `/api/v1/applications/${id}/approve`, { body }));
}

/** `POST /api/v1/applications/:id/decline`: the reason is told to the volunteer. */
export async function declineApplication(conn: MasterConnection, id: number, body: { by: string; reason: string }): Promise<ApplicationJson> {
  return json(await send(conn, 'POST', `/api/v1/applications/${id}/decline`, { body }));
}

/** `GET /api/v1/coverage`: platforms against their redundancy. */
export async function getCoverage(conn: MasterConnection): Promise<CoverageJson> {
  return json(await send(conn, 'GET', '/api/v1/coverage'));
}

/** `GET /api/v1/health`: the farm's health and what to act on. */
export async function getHealth(conn: MasterConnection): Promise<HealthJson> {
  return json(await send(conn, 'GET', '/api/v1/health'));
}

/** `GET /api/v1/health/history?days=N`: the farm's score samples, oldest first. */
export async function getHealthHistory(conn: MasterConnection, days?: number): Promise<HealthHistoryJson> {
  return json(await send(conn, 'GET', '/api/v1/health/history', { query: { days } }));
}

/** `GET /api/v1/cost`: on-demand spend this month per pool against the budget. */
export async function getCost(conn: MasterConnection): Promise<CostJson> {
  return json(await send(conn, 'GET', '/api/v1/cost'));
}

/** Filters of `GET /api/v1/instances`. */
export interface InstanceFilters {
  pool?: string;
  alive?: boolean;
  days?: number;
}

/** `GET /api/v1/instances`: on-demand instances that ran in the last days, oldest first. */
export async function listInstances(conn: MasterConnection, filters: InstanceFilters): Promise<InstanceJson[]> {
  const query = { pool: filters.pool, alive: filters.alive ? 'true' : undefined, days: filters.days };
  return (await json<{ instances: InstanceJson[] }>(await send(conn, 'GET', '/api/v1/instances', { query }))).instances;
}

/** `GET /api/v1/requests/:id`. */
export async function getRequest(conn: MasterConnection, id: number): Promise<RequestJson> {
  return json(await send(conn, 'GET', `/api/v1/requests/${id}`));
}

/** `POST /api/v1/requests/:id/cancel`: cancels a queued request. */
export async function cancelRequest(conn: MasterConnection, id: number): Promise<RequestJson> {
  return (await json<{ request: RequestJson }>(await send(conn, 'POST', `/api/v1/requests/${id}/cancel`, { body: {} }))).request;
}

/** `GET /api/v1/builds/:id`: a build with its steps, revision and blamelist. */
export async function getBuild(conn: MasterConnection, id: number): Promise<BuildDetailJson> {
  return json(await send(conn, 'GET', `/api/v1/builds/${id}`));
}

/** Filters of `GET /api/v1/builds`. */
export interface BuildFilters {
  builder?: string;
  result?: string;
  state?: string;
  worker?: string;
  limit?: number;
  before?: number;
}

/** `GET /api/v1/builds`: one page of builds, newest first. */
export async function listBuilds(conn: MasterConnection, filters: BuildFilters): Promise<BuildListJson> {
  return json(await send(conn, 'GET', '/api/v1/builds', { query: { ...filters } }));
}

/** `POST /api/v1/builds/:id/cancel`. */
export async function cancelBuild(conn: MasterConnection, id: number, reason?: string): Promise<{ ok: true }> {
  return json(await send(conn, 'POST', `/api/v1/builds/${id}/cancel`, { body: reason ? { reason } : {} }));
}

/** Filters of `GET /api/v1/changes`. */
export interface ChangeFilters {
  source?: string;
  branch?: string;
  limit?: number;
  before?: number;
}

/** `GET /api/v1/changes`: one page of changes, newest first, each with its builds. */
export async function listChanges(conn: MasterConnection, filters: ChangeFilters): Promise<ChangeListJson> {
  return json(await send(conn, 'GET', '/api/v1/changes', { query: { ...filters } }));
}

/** `GET /api/v1/changes/:id`. */
export async function getChange(conn: MasterConnection, id: number): Promise<ChangeWithBuildsJson> {
  return (await json<{ change: ChangeWithBuildsJson }>(await send(conn, 'GET', `/api/v1/changes/${id}`))).change;
}

/** `GET /api/v1/schedulers`. */
export async function listSchedulers(conn: MasterConnection): Promise<SchedulerJson[]> {
  return (await json<{ schedulers: SchedulerJson[] }>(await send(conn, 'GET', '/api/v1/schedulers'))).schedulers;
}

/** Body of `POST /schedulers/:name/force`: parameter values as text, the master converts them. */
export interface SchedulerForceBody {
  builders?: string[];
  params?: Record<string, string | boolean>;
  reason?: string;
  submitted_by?: string;
  revision?: string;
  branch?: string;
}

/** `POST /api/v1/schedulers/:name/force`: queues one request per builder, parameters checked by the scheduler. */
export async function forceScheduler(conn: MasterConnection, scheduler: string, body: SchedulerForceBody): Promise<RequestJson[]> {
  const response = await send(conn, 'POST', `/api/v1/schedulers/${encodeURIComponent(scheduler)}/force`, { body });
  return (await json<{ requests: RequestJson[] }>(response)).requests;
}

/** Body of `POST /try`. */
export interface TryBody {
  scheduler?: string;
  builders: string[];
  /** The diff (`git diff --binary` output), base64. */
  patch_base64: string;
  /** Revision the patch applies on; '' means the branch head when the build starts. */
  base_revision: string;
  branch?: string;
  /** "Name <mail>". */
  author: string;
  comment?: string;
}

/** `POST /api/v1/try`: uploads a patch and queues a request per builder to build it. */
export async function submitTry(conn: MasterConnection, body: TryBody): Promise<TryAnswerJson> {
  return json(await send(conn, 'POST', '/api/v1/try', { body }));
}

/** `GET /api/v1/workers`. */
export async function listWorkers(conn: MasterConnection): Promise<WorkerJson[]> {
  return (await json<{ workers: WorkerJson[] }>(await send(conn, 'GET', '/api/v1/workers'))).workers;
}

/** `GET /api/v1/builds/:id/steps/:step/log`: the raw bytes, as they arrive. */
export async function streamStepLog(
  conn: MasterConnection,
  buildId: number,
  step: string | number,
  options: { follow?: boolean; signal?: AbortSignal } = {},
): Promise<AsyncIterable<Uint8Array>> {
  const response = await send(conn, 'GET', `/api/v1/builds/${buildId}/steps/${encodeURIComponent(String(step))}/log`, {
    query: { follow: options.follow ? 1 : undefined },
    accept: 'text/plain',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return bodyOf(response);
}

/** A live subscription to `GET /api/v1/events`; `close()` ends it. */
export interface EventSubscription extends AsyncIterable<ServerSentEvent> {
  close(): void;
}

/** `GET /api/v1/events?types=...`: resolves once subscribed (the master sent its first bytes). */
export async function subscribeEvents(conn: MasterConnection, types: readonly string[]): Promise<EventSubscription> {
  const abort = new AbortController();
  const response = await send(conn, 'GET', '/api/v1/events', {
    query: { types: types.join(',') },
    accept: 'text/event-stream',
    signal: abort.signal,
  });
  const events = parseServerSentEvents(bodyOf(response));
  return {
    close: () => abort.abort(),
    async *[Symbol.asyncIterator]() {
      try {
        yield* events;
      } catch (error) {
        if (abort.signal.aborted) return;
        throw networkError(conn, error);
      }
    },
  };
}

function bodyOf(response: Response): AsyncIterable<Uint8Array> {
  if (!response.body) return (async function* empty() {})();
  return response.body as unknown as AsyncIterable<Uint8Array>;
}
