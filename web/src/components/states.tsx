/**
 * What a view shows while it loads or when its request failed: one line that
 * says what happened and, for API errors, the code and field.
 */
import { ApiError } from '../api/client.js';

/** A query error, said plainly. */
export function ErrorMessage({ error }: { error: unknown }) {
  const message =
    error instanceof ApiError
      ? `${error.message} (${error.code}${typeof error.details.field === 'string' ? `, field ${error.details.field}` : ''})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

/** A placeholder while data loads. */
export function Loading({ what }: { what: string }) {
  return <p className="muted" aria-busy="true">Loading {what}…</p>;
}
