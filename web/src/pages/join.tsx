/**
 * Joining the farm (`/join`): the web form of `shepherd join`. A volunteer
 * offers a worker (name, dimensions, max builds, contact, notes) without
 * any token; the reply's application token is shown once, prominently, and
 * the status panel follows the application with it. The panel is also
 * reachable later as `/join?application=ID` (the token typed in): pending,
 * declined with the reason, or approved with the worker's secret, the
 * command and the config file, which the master returns exactly once, so
 * this page keeps them on screen once it has them.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError, apiPost, type ApplicationStatusJson, type JoinReplyJson } from '../api/client.js';
import { useLiveEvent } from '../api/live.js';
import { CopyButton } from '../components/copy-button.js';
import { DimensionPills } from '../components/selector-pills.js';
import { Ago } from '../components/time.js';
import { joinBody, joinErrorField, JOIN_FIELDS, type JoinField, type JoinFormValues, type JoinProblems } from './join-form.js';
import './fleet-pages.css';

/** The join page: the form, what it returned, or an application followed by its id. */
export function JoinPage() {
  const [params, setParams] = useSearchParams();
  const [reply, setReply] = useState<JoinReplyJson | null>(null);
  const id = Number(params.get('application'));
  const following = Number.isInteger(id) && id > 0 ? id : null;

  function submitted(sent: JoinReplyJson) {
    setReply(sent);
    // A URL to come back to (the token is not in it: it is shown only now).
    setParams({ application: String(sent.application.id) }, { replace: true });
  }

  function another() {
    setReply(null);
    setParams({});
  }

  // `following` is still null in the render before the URL changes.
  if (reply && (following === null || following === reply.application.id)) return <Submitted reply={reply} onAnother={another} />;
  if (following !== null) return <FollowApplication key={following} id={following} />;
  return <JoinForm onSubmitted={submitted} />;
}

/** One labelled field with its hint and its problem (from the form or the API). */
function Field({
  field,
  label,
  hint,
  problem,
  children,
}: {
  field: JoinField;
  label: string;
  hint?: ReactNode;
  problem: string | undefined;
  children: (props: { id: string; 'aria-describedby': string | undefined; 'aria-invalid': true | undefined }) => ReactNode;
}) {
  const id = `join-${field}`;
  const described = [hint ? `${id}-hint` : null, problem ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': described, 'aria-invalid': problem ? true : undefined })}
      {hint && (
        <span id={`${id}-hint`} className="hint muted">
          {hint}
        </span>
      )}
      {problem && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}

const EMPTY: JoinFormValues = { name: '', dimensions: '', maxBuilds: '1', contact: '', notes: '' };

/** The offer form. */
function JoinForm({ onSubmitted }: { onSubmitted(reply: JoinReplyJson): void }) {
  const [values, setValues] = useState<JoinFormValues>(EMPTY);
  const [problems, setProblems] = useState<JoinProblems>({});
  const [top, setTop] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof JoinFormValues) => (e: { target: { value: string } }) => setValues({ ...values, [key]: e.target.value });

  function show(found: JoinProblems) {
    setProblems(found);
    const first = JOIN_FIELDS.find((f) => found[f]);
    if (first) document.getElementById(`join-${first}`)?.focus();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTop(null);
    const checked = joinBody(values);
    if ('problems' in checked) return show(checked.problems);
    setProblems({});
    setBusy(true);
    try {
      onSubmitted(await apiPost<JoinReplyJson>('/applications', checked.body, null));
    } catch (error) {
      const field = error instanceof ApiError ? joinErrorField(error) : null;
      if (field) show({ [field]: (error as ApiError).message });
      else setTop(error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="join-title">
      <h1 id="join-title">Join the farm</h1>
      <p>
        Offer a machine as a worker. The farm's operators are told and decide; you get a token now, and with it this page shows their answer
        and, once approved, the worker's secret and the command that starts it. See docs/worker-admin.md for what running a worker involves.
      </p>
      <form className="panel-form" aria-label="Offer a worker" onSubmit={(e) => void submit(e)} noValidate>
        <Field field="name" label="Worker name" hint='Letters, digits, ".", "_" or "-" (the agent connects with it).' problem={problems.name}>
          {(props) => <input {...props} type="text" value={values.name} onChange={set('name')} maxLength={100} autoComplete="off" />}
        </Field>
        <Field
          field="dimensions"
          label="Dimensions"
          hint={
            <>
              One <code>key=value</code> a line: what the machine is (<code>os=linux</code>, <code>arch=x86_64</code>, <code>libc=glibc</code>…).
              Builders pick workers by them.
            </>
          }
          problem={problems.dimensions}
        >
          {(props) => <textarea {...props} rows={4} value={values.dimensions} onChange={set('dimensions')} placeholder={'os=linux\narch=x86_64'} spellCheck={false} />}
        </Field>
        <Field field="max_builds" label="Max builds at once" hint="Builds of different builders it may run at the same time (1 to 64)." problem={problems.max_builds}>
          {(props) => <input {...props} type="number" min={1} max={64} step={1} value={values.maxBuilds} onChange={set('maxBuilds')} />}
        </Field>
        <Field field="contact" label="Contact" hint='Who runs the machine: "Name <mail@example.org>". Told of the decision, and when the worker goes missing.' problem={problems.contact}>
          {(props) => <input {...props} type="text" value={values.contact} onChange={set('contact')} maxLength={300} autoComplete="email" />}
        </Field>
        <Field field="notes" label="Notes" hint="Anything operators should know: where it runs, how long it is offered (optional)." problem={problems.notes}>
          {(props) => <textarea {...props} rows={3} value={values.notes} onChange={set('notes')} maxLength={2000} />}
        </Field>
        {top && (
          <p className="error" role="alert">
            {top}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Sending…' : 'Offer this worker'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** Right after the offer: the id and the token, shown only now, and the status panel. */
function Submitted({ reply, onAnother }: { reply: JoinReplyJson; onAnother(): void }) {
  const { application, token } = reply;
  return (
    <section aria-labelledby="applied-title">
      <h1 id="applied-title">Application #{application.id} sent</h1>
      <div className="token-reveal" role="group" aria-labelledby="token-title">
        <h2 id="token-title">Your application token</h2>
        <p>
          <strong>Keep it: shown only now.</strong> With the application number <strong>#{application.id}</strong> and this token you (and
          only you) see the operators' answer and collect the worker's secret, here at{' '}
          <Link to={`/join?application=${application.id}`}>/join?application={application.id}</Link> or with{' '}
          <code>shepherd join --status {application.id} --token TOKEN</code>.
        </p>
        <p className="secret-line">
          <code id="application-token" className="secret">
            {token}
          </code>{' '}
          <CopyButton text={token} label="the application token" targetId="application-token" />
        </p>
      </div>
      <p className="muted inline-pills">
        Offered: <strong>{application.name}</strong> with <DimensionPills dimensions={application.dimensions} />, {application.max_builds} build
        {application.max_builds === 1 ? '' : 's'} at once.
      </p>
      <StatusPanel id={application.id} token={token} initial={{ id: application.id, state: 'pending', reason: null, worker: null, secret: null, secret_collected_at: null, command: null, config: null }} />
      <p>
        <button type="button" onClick={onAnother}>
          Offer another worker
        </button>
      </p>
    </section>
  );
}

/** `/join?application=ID`: the token typed in, then the status panel. */
function FollowApplication({ id }: { id: number }) {
  const [token, setToken] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const inputId = useId();
  function submit(event: FormEvent) {
    event.preventDefault();
    if (draft.trim()) setToken(draft.trim());
  }
  return (
    <section aria-labelledby="follow-title">
      <h1 id="follow-title">Application #{id}</h1>
      <form className="panel-form" aria-label="Check an application" onSubmit={submit}>
        <div className="field">
          <label htmlFor={inputId}>Application token</label>
          <input id={inputId} type="password" autoComplete="off" value={draft} onChange={(e) => setDraft(e.target.value)} />
          <span className="hint muted">The token this page (or `shepherd join`) showed when you offered the worker.</span>
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={!draft.trim()}>
            Check status
          </button>
        </div>
      </form>
      {token && <StatusPanel key={token} id={id} token={token} />}
      <p className="muted">
        <Link to="/join">Offer another worker</Link>
      </p>
    </section>
  );
}

/** What the master returned once, kept on screen for as long as the page lives. */
interface Collected {
  worker: string | null;
  secret: string;
  command: string | null;
  config: string | null;
}

/**
 * Where the application stands, checked with its token: at once (unless
 * just submitted), when a live event says operators decided it, and on
 * demand. The first check after approval returns the secret; it stays on
 * screen even when a later check (which never returns it) comes back.
 */
function StatusPanel({ id, token, initial }: { id: number; token: string; initial?: ApplicationStatusJson }) {
  const [status, setStatus] = useState<ApplicationStatusJson | null>(initial ?? null);
  const [collected, setCollected] = useState<Collected | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A ref survives React's development double-mount: the check that may collect the secret is made once.
  const checkedAtStart = useRef(false);

  async function check() {
    setBusy(true);
    setProblem(null);
    try {
      const answer = await apiPost<ApplicationStatusJson>(`/applications/${id}/status`, {}, token);
      if (answer.secret) setCollected({ worker: answer.worker, secret: answer.secret, command: answer.command, config: answer.config });
      setStatus(answer);
    } catch (error) {
      setProblem(
        error instanceof ApiError && error.status === 401
          ? `The master knows no application #${id} with that token: check both.`
          : error instanceof Error
            ? error.message
            : String(error),
      );
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (initial || checkedAtStart.current) return;
    checkedAtStart.current = true;
    void check();
    // Once per panel: the panel is keyed by its token.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useLiveEvent((name, data) => {
    if (name === 'application:decided' && data.application_id === id) void check();
  });

  return (
    <section className="status-panel" aria-labelledby="status-title" aria-busy={busy}>
      <h2 id="status-title">Status</h2>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {status === null && !problem && <p className="muted">Checking…</p>}
      {status?.state === 'pending' && (
        <p role="status">
          <span className="result result-pending">⏳ pending</span> The operators have not decided yet. This page checks again by itself when they
          do (while it is open), or check now.
        </p>
      )}
      {status?.state === 'declined' && (
        <div role="status">
          <p>
            <span className="result result-failure">✖ declined</span> The operators declined this offer.
          </p>
          <p>
            Their reason: <q>{status.reason ?? 'none given'}</q>
          </p>
        </div>
      )}
      {status?.state === 'approved' && collected && <ApprovedSecret collected={collected} />}
      {status?.state === 'approved' && !collected && (
        <p role="status">
          <span className="result result-success">✔ approved</span> Worker <Link to={`/workers/${encodeURIComponent(status.worker ?? '')}`}>{status.worker}</Link> was
          created. Its secret was already collected
          {status.secret_collected_at !== null && (
            <>
              {' '}
              <Ago at={status.secret_collected_at} />
            </>
          )}{' '}
          and is never shown again; if it is lost, ask the farm's operators.
        </p>
      )}
      <div className="actions status-actions">
        <button type="button" onClick={() => void check()} disabled={busy}>
          {busy ? 'Checking…' : status === null ? 'Check status' : 'Check again'}
        </button>
      </div>
    </section>
  );
}

/** The approved worker's secret, command and config: shown once by the master. */
function ApprovedSecret({ collected }: { collected: Collected }) {
  return (
    <div role="status">
      <p>
        <span className="result result-success">✔ approved</span> Worker{' '}
        {collected.worker && <Link to={`/workers/${encodeURIComponent(collected.worker)}`}>{collected.worker}</Link>} was created.{' '}
        <strong>Save its secret now: the master shows it only this once.</strong>
      </p>
      <h3 id="secret-title">Worker secret</h3>
      <p className="secret-line">
        <code id="worker-secret" className="secret" aria-labelledby="secret-title">
          {collected.secret}
        </code>{' '}
        <CopyButton text={collected.secret} label="the worker secret" targetId="worker-secret" />
      </p>
      {collected.config && (
        <>
          <h3 id="config-title">
            Config file <span className="muted">(save as worker.yml)</span>
          </h3>
          <pre id="worker-config" className="copyable" aria-labelledby="config-title">
            {collected.config}
          </pre>
          <CopyButton text={collected.config} label="the config file" targetId="worker-config" />
        </>
      )}
      {collected.command && (
        <>
          <h3 id="command-title">Command that starts the agent</h3>
          <pre id="worker-command" className="copyable" aria-labelledby="command-title">
            {collected.command}
          </pre>
          <CopyButton text={collected.command} label="the command" targetId="worker-command" />
        </>
      )}
    </div>
  );
}
