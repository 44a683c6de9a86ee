/**
 * Applications (`/applications`, operators: needs the API token): pending
 * offers first, oldest first, with what they would add to the farm (their
 * dimensions, the platforms they would count for, the builders they could
 * run), the volunteer's contact and notes, and Approve (optionally under
 * another name) and Decline (with the reason the volunteer is told); the
 * decided ones below. Refreshed by the live application events.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError, apiPost, type ApplicationJson } from '../api/client.js';
import { queryKeys, useApplications } from '../api/queries.js';
import { useToken } from '../api/token.js';
import { parseContact } from '../components/contact.js';
import { DimensionPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { splitApplications } from './applications-order.js';
import './fleet-pages.css';

const builderLink = (name: string) => <Link to={`/builders/${encodeURIComponent(name)}`}>{name}</Link>;

function commaList(names: string[], link: (name: string) => ReactNode) {
  return names.map((name, i) => (
    <span key={name}>
      {i > 0 && ', '}
      {link(name)}
    </span>
  ));
}

/** The applications page. */
export function ApplicationsPage() {
  const { token } = useToken();
  const applications = useApplications();
  if (!token) {
    return (
      <section aria-labelledby="applications-title">
        <h1 id="applications-title">Applications</h1>
        <p className="muted">
          Volunteers' offers carry their contacts: enter the master's API token (<strong>Enter API token</strong>, above) to see and decide them.
          Volunteers offer workers on the <Link to="/join">join page</Link>.
        </p>
      </section>
    );
  }
  if (applications.isPending) return <Loading what="applications" />;
  if (applications.isError) {
    return (
      <section aria-labelledby="applications-title">
        <h1 id="applications-title">Applications</h1>
        <ErrorMessage error={applications.error} />
      </section>
    );
  }
  const { pending, decided } = splitApplications(applications.data);
  return (
    <>
      <section aria-labelledby="applications-title">
        <h1 id="applications-title">Applications</h1>
        <h2 id="pending-title">Pending ({pending.length})</h2>
        {pending.length === 0 ? (
          <p className="muted">Nothing waiting for a decision.</p>
        ) : (
          <ul className="application-list" aria-labelledby="pending-title">
            {pending.map((a) => (
              <PendingApplication key={a.id} application={a} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="decided-title">
        <h2 id="decided-title">Decided</h2>
        {decided.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="application-list" aria-labelledby="decided-title">
            {decided.map((a) => (
              <DecidedApplication key={a.id} application={a} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** The volunteer's name and address in full: operators write to them. */
function ContactLine({ contact }: { contact: string }) {
  const { name, email } = parseContact(contact);
  if (!email) return <span>{contact}</span>;
  return (
    <span>
      {name !== email && `${name} `}
      <a href={`mailto:${email}`}>{`<${email}>`}</a>
    </span>
  );
}

/** What the offer is, for both lists. */
function Offer({ application: a }: { application: ApplicationJson }) {
  return (
    <dl className="kv">
      <dt>Dimensions</dt>
      <dd>
        <DimensionPills dimensions={a.dimensions} />
      </dd>
      <dt>Contact</dt>
      <dd>
        <ContactLine contact={a.contact} />
      </dd>
      <dt>Builds at once</dt>
      <dd>{a.max_builds}</dd>
      <dt>Platforms</dt>
      <dd>{a.platforms.length === 0 ? <span className="muted">none of the configured platforms</span> : a.platforms.join(', ')}</dd>
      <dt>Builders</dt>
      <dd>{a.builders.length === 0 ? <span className="error">no builder could run it (its dimensions match none)</span> : commaList(a.builders, builderLink)}</dd>
      {a.notes && (
        <>
          <dt>Notes</dt>
          <dd className="notes">{a.notes}</dd>
        </>
      )}
    </dl>
  );
}

/** What a decision call came to. */
type Problem = { message: string; field?: 'name' | 'reason' } | null;

/** A pending application with Approve and Decline. */
function PendingApplication({ application: a }: { application: ApplicationJson }) {
  const { token, markRefused } = useToken();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>(null);
  const ids = useId();

  async function decide(action: 'approve' | 'decline', body: Record<string, string>) {
    setBusy(true);
    setProblem(null);
    try {
      await apiPost<ApplicationJson>(`/applications/${a.id}/${action}`, body, token);
      await client.invalidateQueries({ queryKey: queryKeys.applications });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) markRefused();
      const field = error instanceof ApiError ? error.details.field : undefined;
      setProblem({
        message: error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error),
        ...(field === 'name' || field === 'reason' ? { field } : {}),
      });
    } finally {
      setBusy(false);
    }
  }

  function approve(event: FormEvent) {
    event.preventDefault();
    void decide('approve', name.trim() ? { name: name.trim() } : {});
  }

  function decline(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setProblem({ message: 'reason: say why (the volunteer is told)', field: 'reason' });
      return;
    }
    void decide('decline', { reason: reason.trim() });
  }

  return (
    <li className="pending" aria-labelledby={`${ids}-title`}>
      <div className="application-head">
        <strong id={`${ids}-title`}>{a.name}</strong>
        <span className="muted">
          application #{a.id}, offered <Ago at={a.submitted_at} />
        </span>
      </div>
      <Offer application={a} />
      <div className="application-actions">
        <form onSubmit={approve} aria-label={`Approve ${a.name}`}>
          <label htmlFor={`${ids}-name`}>Approve as</label>
          <input
            id={`${ids}-name`}
            type="text"
            value={name}
            placeholder={a.name}
            maxLength={100}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={problem?.field === 'name' ? true : undefined}
            aria-describedby={problem?.field === 'name' ? `${ids}-problem` : undefined}
          />
          <button type="submit" className="primary" disabled={busy}>
            Approve
          </button>
        </form>
        <form onSubmit={decline} aria-label={`Decline ${a.name}`}>
          <label htmlFor={`${ids}-reason`}>Reason</label>
          <input
            id={`${ids}-reason`}
            type="text"
            value={reason}
            placeholder="told to the volunteer (required)"
            maxLength={2000}
            onChange={(e) => setReason(e.target.value)}
            aria-invalid={problem?.field === 'reason' ? true : undefined}
            aria-describedby={problem?.field === 'reason' ? `${ids}-problem` : undefined}
          />
          <button type="submit" disabled={busy}>
            Decline
          </button>
        </form>
      </div>
      {problem && (
        <p id={`${ids}-problem`} className={problem.field ? 'field-error' : 'error'} role="alert">
          {problem.message}
        </p>
      )}
    </li>
  );
}

/** An approved or declined application. */
function DecidedApplication({ application: a }: { application: ApplicationJson }) {
  return (
    <li>
      <div className="application-head">
        <strong>{a.name}</strong>
        {a.state === 'approved' ? <span className="result result-success">✔ approved</span> : <span className="result result-failure">✖ declined</span>}
        <span className="muted">
          application #{a.id}, decided by {a.decided_by ?? 'an operator'} <Ago at={a.decided_at} />
        </span>
      </div>
      {a.state === 'approved' && a.worker && (
        <p>
          Worker <Link to={`/workers/${encodeURIComponent(a.worker)}`}>{a.worker}</Link>
        </p>
      )}
      {a.state === 'declined' && a.reason && (
        <p>
          Reason: <q>{a.reason}</q>
        </p>
      )}
      <details>
        <summary>The offer</summary>
        <Offer application={a} />
      </details>
    </li>
  );
}
