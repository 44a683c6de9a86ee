/**
 * A build's past debug sessions (the audit): who asked, when, for how long,
 * how it ended (or the worker's refusal), and its recording, which needs the
 * API token (a terminal shows whatever the build's environment holds), so it
 * is fetched with the token and saved as `SESSION.cast` (asciicast v2:
 * `asciinema play` replays it).
 */
import { useState, type MouseEvent } from 'react';
import { ApiError, apiGetFile, type BuildDetailJson } from '../api/client.js';
import { useDebugSessions } from '../api/queries.js';
import { useToken } from '../api/token.js';
import { commandText } from '../pages/build-view.js';
import { ErrorMessage } from '../components/states.js';
import { Ago, Elapsed } from '../components/time.js';
import { sessionOutcome, type DebugSessionJson } from './debug-protocol.js';
import './debug.css';

function RecordingLink({ session }: { session: DebugSessionJson }) {
  const { token, markRefused } = useToken();
  const [problem, setProblem] = useState<string | null>(null);
  if (session.recording === null) return <span className="muted">none</span>;
  if (!token) return <span className="muted">with the API token</span>;
  const path = session.recording.replace(/^\/api\/v1/, '');
  async function download(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    setProblem(null);
    try {
      const blob = await apiGetFile(path, token!);
      const url = URL.createObjectURL(blob);
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = `${session.session}.cast`;
      anchor.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) markRefused();
      setProblem(error instanceof Error ? error.message : String(error));
    }
  }
  return (
    <>
      <a href={session.recording} onClick={(e) => void download(e)}>
        recording
      </a>
      {problem && (
        <span className="error" role="alert">
          {' '}
          {problem}
        </span>
      )}
    </>
  );
}

/** The Debug sessions section, or nothing when there has been none. */
export function DebugSessions({ build }: { build: BuildDetailJson }) {
  const query = useDebugSessions(build.id);
  if (query.isPending) return null;
  if (query.isError) {
    return (
      <section aria-labelledby="debug-sessions-heading">
        <h2 id="debug-sessions-heading">Debug sessions</h2>
        <ErrorMessage error={query.error} />
      </section>
    );
  }
  const sessions = query.data;
  if (sessions.length === 0) return null;
  return (
    <section aria-labelledby="debug-sessions-heading">
      <h2 id="debug-sessions-heading">Debug sessions</h2>
      <div className="table-wrap">
        <table className="debug-sessions">
          <thead>
            <tr>
              <th scope="col">who</th>
              <th scope="col">when</th>
              <th scope="col">how long</th>
              <th scope="col" className="hide-narrow">what</th>
              <th scope="col">outcome</th>
              <th scope="col">recording</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.session}>
                <td>{s.user}</td>
                <td>
                  <Ago at={s.started_at} />
                </td>
                <td>{s.refused_reason === null ? <Elapsed start={s.started_at} end={s.ended_at} /> : ''}</td>
                <td className="hide-narrow">
                  {s.command ? <code>{commandText(s.command)}</code> : 'a shell'}
                  {s.mode && <span className="muted"> ({s.mode})</span>}
                </td>
                <td className={s.refused_reason !== null || (s.exit_code !== null && s.exit_code !== 0) ? 'error' : undefined}>{sessionOutcome(s)}</td>
                <td>
                  <RecordingLink session={s} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
