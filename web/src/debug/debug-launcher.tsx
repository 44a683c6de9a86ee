/**
 * "Debug on WORKER" on a build page, with the API token: the name to ask as
 * (the worker's admin may list who may; remembered in the browser) and the
 * terminal panel it opens. Nothing without a token: the master would refuse.
 */
import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useState } from 'react';
import type { BuildDetailJson } from '../api/client.js';
import { queryKeys } from '../api/queries.js';
import { useToken } from '../api/token.js';
import './debug.css';

const DebugTerminal = lazy(() => import('./debug-terminal.js').then((m) => ({ default: m.DebugTerminal })));

const USER_KEY = 'shepherd.debugUser';

function readUser(): string {
  try {
    return window.localStorage.getItem(USER_KEY) ?? '';
  } catch {
    return ''; // storage disabled
  }
}

function storeUser(user: string): void {
  try {
    if (user.trim()) window.localStorage.setItem(USER_KEY, user.trim());
    else window.localStorage.removeItem(USER_KEY);
  } catch {
    // storage disabled: asked for each session
  }
}

/** The button, the user field and, once asked, the session's terminal. */
export function DebugLauncher({ build }: { build: BuildDetailJson }) {
  const { token } = useToken();
  const client = useQueryClient();
  const [user, setUser] = useState(readUser);
  // Each press opens a new session: the key remounts the terminal.
  const [session, setSession] = useState<{ key: number; user: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = useCallback(() => {
    setBusy(false);
    void client.invalidateQueries({ queryKey: queryKeys.debugSessions(build.id) });
  }, [client, build.id]);
  // The audit gains its row when the master asks the worker, and changes as the session opens.
  const audited = useCallback(() => void client.invalidateQueries({ queryKey: queryKeys.debugSessions(build.id) }), [client, build.id]);
  if (!token) return null;

  function start() {
    storeUser(user);
    setBusy(true);
    setSession((previous) => ({ key: (previous?.key ?? 0) + 1, user: user.trim() }));
  }

  return (
    <div className="debug-launcher">
      <div className="actions">
        <button type="button" onClick={start} disabled={busy} title="Open a shell in this build's directory on its worker (the worker's admin decides)">
          ⌨ Debug on {build.worker}
        </button>
        <label className="debug-user">
          as{' '}
          <input value={user} onChange={(e) => setUser(e.target.value)} placeholder="operator" size={12} aria-label="Debug as user" autoComplete="username" />
        </label>
      </div>
      {session && (
        <Suspense fallback={<p className="muted">Loading the terminal…</p>}>
          <DebugTerminal
            key={session.key}
            buildId={build.id}
            worker={build.worker}
            token={token}
            user={session.user}
            onStatus={audited}
            onEnded={refresh}
            onClose={() => setSession(null)}
          />
        </Suspense>
      )}
    </div>
  );
}
