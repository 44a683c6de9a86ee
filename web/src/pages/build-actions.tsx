/**
 * Rebuild and cancel, offered only with an API token. A rebuild queues the
 * same code again (`POST /builds/:id/rebuild`: revision, branch, try patch
 * and changes) and opens the new build when it starts: the request is re-read when a live
 * `build:started` event arrives, never on a timer.
 */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, apiGet, apiPost, type BuildDetailJson, type RequestJson } from '../api/client.js';
import { useLiveEvent } from '../api/live.js';
import { useToken } from '../api/token.js';

/** What an action came to. */
type Status = { kind: 'idle' } | { kind: 'busy'; text: string } | { kind: 'waiting'; request: number } | { kind: 'done'; text: string } | { kind: 'error'; text: string };

/** The build's actions, or nothing without a token. */
export function BuildActions({ build }: { build: BuildDetailJson }) {
  const { token, markRefused } = useToken();
  const navigate = useNavigate();
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  function failed(error: unknown) {
    if (error instanceof ApiError && error.status === 401) {
      markRefused();
      setStatus({ kind: 'error', text: 'the master refused the API token' });
    } else setStatus({ kind: 'error', text: error instanceof Error ? error.message : String(error) });
  }

  /** Opens the rebuild once it has a build; says so if it ended without one. */
  async function check(requestId: number) {
    try {
      const request = await apiGet<RequestJson>(`/requests/${requestId}`);
      if (request.build_id !== null) void navigate(`/builds/${request.build_id}`);
      else if (request.state === 'complete') setStatus({ kind: 'done', text: `request #${requestId} ended without a build (${request.result?.toLowerCase() ?? 'cancelled'})` });
    } catch (error) {
      failed(error);
    }
  }

  useLiveEvent((name, data) => {
    if (status.kind !== 'waiting') return;
    if (name === 'build:started' && data.request_id === status.request && typeof data.build_id === 'number') void navigate(`/builds/${data.build_id}`);
    else if ((name === 'build:started' && data.builder === build.builder) || name === 'request:cancelled') void check(status.request);
  });

  if (!token) return null;

  async function rebuild() {
    setStatus({ kind: 'busy', text: 'queueing a rebuild…' });
    try {
      const { request } = await apiPost<{ request: RequestJson }>(`/builds/${build.id}/rebuild`, { reason: `rebuild of #${build.number}` }, token);
      setStatus({ kind: 'waiting', request: request.id });
      // It may have started before we were listening.
      await check(request.id);
    } catch (error) {
      failed(error);
    }
  }

  async function cancel() {
    setStatus({ kind: 'busy', text: 'cancelling…' });
    try {
      await apiPost(`/builds/${build.id}/cancel`, {}, token);
      setStatus({ kind: 'done', text: 'cancel requested' });
    } catch (error) {
      failed(error);
    }
  }

  const busy = status.kind === 'busy' || status.kind === 'waiting';
  return (
    <div className="actions build-actions">
      <button type="button" onClick={() => void rebuild()} disabled={busy}>
        ↻ Rebuild
      </button>
      {build.state === 'running' && (
        <button type="button" onClick={() => void cancel()} disabled={busy}>
          ⊘ Cancel build
        </button>
      )}
      <span aria-live="polite">
        {status.kind === 'busy' && <span className="muted">{status.text}</span>}
        {status.kind === 'waiting' && (
          <span className="muted">
            queued as request #{status.request}; waiting for a worker on <Link to={`/builders/${encodeURIComponent(build.builder)}`}>{build.builder}</Link> (the new build opens when it starts)
          </span>
        )}
        {status.kind === 'done' && <span className="muted">{status.text}</span>}
        {status.kind === 'error' && (
          <span className="error" role="alert">
            {status.text}
          </span>
        )}
      </span>
    </div>
  );
}
