/**
 * The `shepherd` command's HTTP client: one function per API call. Errors
 * become CliErrors: an API error keeps its message and catalogue code, a
 * network error names the master's URL and how to point elsewhere.
 */
import type {
  BuildDetailJson,
  BuildListJson,
  ChangeWithBuildsJson,
  CoverageJson,
  HealthJson,
  RequestJson,
  SchedulerJson,
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
  options: { query?: Query; body?: unknown; signal?: AbortSignal; accept?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (conn.token && method !== 'GET') headers.authorization = `Bearer ${conn.token}`;
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

/** `GET /api/v1/coverage`: platforms against their redundancy. */
export async function getCoverage(conn: MasterConnection): Promise<CoverageJson> {
  return json(await send(conn, 'GET', '/api/v1/coverage'));
}

/** `GET /api/v1/health`: the farm's health and what to act on. */
export async function getHealth(conn: MasterConnection): Promise<HealthJson> {
  return json(await send(conn, 'GET', '/api/v1/health'));
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
