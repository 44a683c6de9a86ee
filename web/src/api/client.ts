/**
 * The one way the UI talks to the master's REST API: JSON in and out, errors
 * as `ApiError` carrying the API's stable code and the field it names. The
 * response types are the API's own (src/master/api/schemas.ts), imported as
 * types only, so the UI and the server cannot drift apart silently.
 */
export type {
  ApplicationJson,
  ApplicationStatusJson,
  ArtifactJson,
  ArtifactListJson,
  BuildDetailJson,
  BuildJson,
  BuilderJson,
  BuildTestsJson,
  ChangeJson,
  ChangeWithBuildsJson,
  CostJson,
  DebugClientStatus,
  DebugSessionJson,
  HealthHistoryJson,
  HealthJson,
  InstanceJson,
  JoinReplyJson,
  RequestJson,
  RetiredWorkerJson,
  SchedulerJson,
  StepJson,
  TestHistoryJson,
  TestResultJson,
  WorkerJson,
} from '../../../src/master/api/schemas.js';

/** A failed API call: HTTP status, the API's error code and message, and the field it names (if any). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Raises the API's error shape (`{ error: { code, message, details } }`) as an ApiError. */
async function failure(response: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: a proxy's error page
  }
  return new ApiError(
    response.status,
    body.error?.code ?? `HTTP_${response.status}`,
    body.error?.message ?? `${response.status} ${response.statusText}`,
    body.error?.details ?? {},
  );
}

/** GET `/api/v1${path}` as JSON; with `token` for the reads operators only may make (applications). */
export async function apiGet<T>(path: string, signal?: AbortSignal, token?: string | null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, { signal: signal ?? null, headers });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** POST JSON to `/api/v1${path}` with a bearer token: the API token, or an application's own token for its status. */
export async function apiPost<T>(path: string, body: unknown, token: string | null): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** GET `/api/v1${path}` as a file with the API token (a debug session's recording: not for anonymous readers). */
export async function apiGetFile(path: string, token: string): Promise<Blob> {
  const response = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/** GET a range of a step's raw log bytes. */
export async function fetchLogBytes(stepId: number, start: number, end: number | undefined, signal?: AbortSignal): Promise<Uint8Array> {
  const query = new URLSearchParams({ start: String(start) });
  if (end !== undefined) query.set('end', String(end));
  const response = await fetch(`/api/v1/steps/${stepId}/log?${query}`, { signal: signal ?? null });
  if (!response.ok) throw await failure(response);
  return new Uint8Array(await response.arrayBuffer());
}
