/**
 * `/debug/:session/approve`: where the mail to a worker's admins leads when
 * a debug session waits for their approval. The admin pastes the worker's
 * secret; the page computes the approval (or end) token itself and sends
 * only the token, which the worker checks. No API token is needed: the
 * token is the credential.
 */
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router';
import { ApiError, apiPost } from '../api/client.js';
import { approvalToken, endToken } from './approval-token.js';
import './fleet-pages.css';

type Outcome = { kind: 'approved' | 'ended' } | { kind: 'failed'; message: string };

/** The approve page. */
export function DebugApprovePage() {
  const session = useParams().session ?? '';
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function act(action: 'approve' | 'end', event?: FormEvent) {
    event?.preventDefault();
    if (!secret) return setOutcome({ kind: 'failed', message: "Paste the worker's secret first." });
    setBusy(true);
    setOutcome(null);
    try {
      const token = action === 'approve' ? await approvalToken(secret, session) : await endToken(secret, session);
      await apiPost(`/debug/${encodeURIComponent(session)}/${action}`, { token }, null);
      setOutcome({ kind: action === 'approve' ? 'approved' : 'ended' });
    } catch (error) {
      setOutcome({ kind: 'failed', message: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="debug-approve">
      <h1>Debug session {session}</h1>
      <p>
        Someone asked for a debug session on a worker you run, which holds it until you approve. Paste the worker's secret: this page
        computes the approval from it and sends only that; the secret does not leave your browser.
      </p>
      <form onSubmit={(event) => void act('approve', event)}>
        <label htmlFor="worker-secret">Worker secret</label>
        <input id="worker-secret" type="password" autoComplete="off" value={secret} onChange={(event) => setSecret(event.target.value)} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            Approve
          </button>
          <button type="button" disabled={busy} onClick={() => void act('end')}>
            End it instead
          </button>
        </div>
      </form>
      {outcome?.kind === 'approved' && <p role="status">Approved: the session has started on the worker.</p>}
      {outcome?.kind === 'ended' && <p role="status">Ended: the worker has closed the session.</p>}
      {outcome?.kind === 'failed' && <p role="alert">{outcome.message}</p>}
    </section>
  );
}
