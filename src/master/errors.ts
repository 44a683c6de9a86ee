/**
 * The error catalogue: every error Shepherd reports has a stable code and an
 * HTTP status. docs/errors.md lists them (a test keeps it in step with this
 * table). Messages say what is wrong and what to do next.
 */

/** code → HTTP status and a one-line meaning for the docs. */
export const ERROR_CODES = {
  SHEPHERD_E_CONFIG: { status: 400, meaning: 'The configuration file is invalid; the message names the file, the path and what was expected.' },
  SHEPHERD_E_VALIDATION: { status: 400, meaning: 'A request body, query or parameter is invalid; `details.field` names it.' },
  SHEPHERD_E_UNAUTHORIZED: { status: 401, meaning: 'A write call without a valid `Authorization: Bearer` token.' },
  SHEPHERD_E_FORBIDDEN: { status: 403, meaning: 'The farm does not allow this (e.g. applications when `fleet.join.open` is false).' },
  SHEPHERD_E_NOT_FOUND: { status: 404, meaning: 'No such builder, build, step, worker, change, change source or scheduler (or not a force or try scheduler).' },
  SHEPHERD_E_CONFLICT: { status: 409, meaning: 'The action does not fit the current state (e.g. cancelling a finished build).' },
  SHEPHERD_E_TOO_MANY: { status: 429, meaning: 'Too many of something waiting (e.g. `fleet.join.max_pending` applications); try again later.' },
  SHEPHERD_E_PAYLOAD_TOO_LARGE: { status: 413, meaning: 'A request body is larger than allowed.' },
  SHEPHERD_E_HOOK_SIGNATURE: { status: 401, meaning: 'A webhook delivery whose signature or token does not match the configured secret; nothing was queued.' },
  SHEPHERD_E_PATCH: { status: 400, meaning: 'A try patch is empty, too large for the try scheduler or not a diff.' },
  SHEPHERD_E_WORKER_AUTH: { status: 401, meaning: 'A worker connected with an unknown name or a wrong secret.' },
  SHEPHERD_E_WORKER_PROTOCOL: { status: 400, meaning: 'A worker sent a malformed or oversized frame; that connection is closed.' },
  SHEPHERD_E_WORKER_DUPLICATE: { status: 409, meaning: 'A second connection for a worker that is already connected; the newer one replaces the older.' },
  SHEPHERD_E_PROPERTY: { status: 400, meaning: 'A step refers to a property the build does not have.' },
  SHEPHERD_E_DATABASE: { status: 500, meaning: 'The database could not be opened or migrated.' },
  SHEPHERD_E_UNAVAILABLE: { status: 503, meaning: 'A part of the master is not running now (e.g. the on-demand pools while they start, or when they failed to start: the master log says why).' },
  SHEPHERD_E_INTERNAL: { status: 500, meaning: 'A bug: the message and the master log say where.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code, an HTTP status and optional structured details. */
export class ShepherdError extends Error {
  override name = 'ShepherdError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
  }
}

/** The JSON body of every API error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Normalises anything thrown into a ShepherdError, keeping the original as `cause`. */
export function toShepherdError(error: unknown): ShepherdError {
  if (error instanceof ShepherdError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ShepherdError('SHEPHERD_E_INTERNAL', message, { cause: error });
}
