/**
 * The Force action of a builder page, offered only with an API token: the
 * force schedulers covering the builder with their typed parameters, or a
 * plain force when none does. Once queued, it follows the request (refreshed
 * by the live events, not a timer) and opens the build when it starts.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, apiGet, apiPost, type RequestJson } from '../api/client.js';
import { queryKeys, useSchedulers } from '../api/queries.js';
import { useToken } from '../api/token.js';
import {
  errorField,
  forceSchedulersFor,
  paramDefaults,
  plainForceBody,
  schedulerForceBody,
  type ForceParam,
  type ParamValues,
} from './force-params.js';
import { ErrorMessage } from './states.js';
import './farm-views.css';

/** What went wrong with the last submission, placed next to the field it names. */
interface FormProblem {
  message: string;
  param?: string;
  reasonField?: boolean;
  refused?: boolean;
}

function problemOf(error: unknown): FormProblem {
  if (error instanceof ApiError) {
    if (error.status === 401) return { message: `The master refused the API token: ${error.message}`, refused: true };
    if (error.status === 400) {
      const field = errorField(error);
      if (field && 'param' in field) return { message: error.message, param: field.param };
      if (field) return { message: error.message, reasonField: true };
    }
    return { message: `${error.message} (${error.code})` };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Follows a queued request until a build runs it, then opens the build. */
function QueuedRequest({ builder, request }: { builder: string; request: RequestJson }) {
  const navigate = useNavigate();
  // Under the `requests` key family: every build:started / request:cancelled event refetches it.
  const followed = useQuery({
    queryKey: [...queryKeys.requests, request.id],
    queryFn: ({ signal }) => apiGet<RequestJson>(`/requests/${request.id}`, signal),
    initialData: request,
    staleTime: 0,
  });
  const current = followed.data;
  useEffect(() => {
    if (current.build_id !== null) void navigate(`/builds/${current.build_id}`);
  }, [current.build_id, navigate]);
  const cancelled = current.state === 'complete' && current.build_id === null;
  return (
    <p className="notice" role="status">
      Queued as request {current.id}
      {cancelled ? ' — it was cancelled before a worker took it.' : ': waiting for a worker; the build opens when it starts.'}{' '}
      <Link to={`/builders/${encodeURIComponent(builder)}`}>See pending requests</Link>
    </p>
  );
}

/** One typed parameter as a form control. */
function ParamField({
  name,
  param,
  value,
  error,
  onChange,
}: {
  name: string;
  param: ForceParam;
  value: string | boolean;
  error: string | undefined;
  onChange(value: string | boolean): void;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [param.description || param.pattern ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  const hint = (param.description || param.pattern) && (
    <span id={hintId} className="hint muted">
      {param.description}
      {param.pattern && (
        <>
          {param.description ? ' ' : ''}(pattern <code>{param.pattern}</code>)
        </>
      )}
    </span>
  );
  const errorLine = error && (
    <span id={errorId} className="field-error" role="alert">
      {error}
    </span>
  );
  if (param.type === 'boolean') {
    return (
      <div className="field">
        <span className="field-inline">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            aria-describedby={described}
            aria-invalid={error ? true : undefined}
          />
          <label htmlFor={id} className="mono">
            {name}
          </label>
        </span>
        {hint}
        {errorLine}
      </div>
    );
  }
  return (
    <div className="field">
      <label htmlFor={id} className="mono">
        {name}
        {param.required ? ' (required)' : ''}
      </label>
      {param.type === 'choice' ? (
        <select id={id} value={String(value)} onChange={(e) => onChange(e.target.value)} aria-describedby={described} aria-invalid={error ? true : undefined}>
          {(param.choices ?? []).map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type="text"
          value={String(value)}
          required={param.required === true}
          onChange={(e) => onChange(e.target.value)}
          aria-describedby={described}
          aria-invalid={error ? true : undefined}
        />
      )}
      {hint}
      {errorLine}
    </div>
  );
}

/** The force form of `builder`; renders nothing without an API token. */
export function ForceForm({ builder }: { builder: string }) {
  const { token, markRefused } = useToken();
  const schedulers = useSchedulers();
  const client = useQueryClient();
  const candidates = forceSchedulersFor(schedulers.data ?? [], builder);
  const [chosen, setChosen] = useState<string | null>(null);
  const scheduler = candidates.find((s) => s.name === chosen) ?? candidates[0] ?? null;
  const [values, setValues] = useState<ParamValues | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [queued, setQueued] = useState<RequestJson | null>(null);
  const reasonId = useId();

  if (!token) return null;
  if (schedulers.isPending) return null;
  // Untouched values follow the chosen scheduler's defaults.
  const current = values ?? paramDefaults(scheduler?.params);

  function choose(name: string) {
    setChosen(name);
    setValues(null);
    setProblem(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setQueued(null);
    try {
      let request: RequestJson | undefined;
      if (scheduler) {
        const body = schedulerForceBody(builder, scheduler.params, current, reason);
        const reply = await apiPost<{ requests: RequestJson[] }>(`/schedulers/${encodeURIComponent(scheduler.name)}/force`, body, token);
        request = reply.requests.find((r) => r.builder === builder) ?? reply.requests[0];
      } else {
        const reply = await apiPost<{ request: RequestJson }>(`/builders/${encodeURIComponent(builder)}/force`, plainForceBody(reason), token);
        request = reply.request;
      }
      if (request) setQueued(request);
      void client.invalidateQueries({ queryKey: queryKeys.builder(builder) });
    } catch (error) {
      const found = problemOf(error);
      if (found.refused) markRefused();
      setProblem(found);
    } finally {
      setBusy(false);
    }
  }

  const params = Object.entries(scheduler?.params ?? {});
  const topProblem = problem && !problem.param && !problem.reasonField ? problem : null;
  return (
    <form className="force-form" onSubmit={(e) => void submit(e)} aria-label={`Force a build of ${builder}`}>
      {schedulers.isError && <ErrorMessage error={schedulers.error} />}
      {candidates.length > 1 && (
        <div className="field">
          <label htmlFor={`${reasonId}-scheduler`}>Force scheduler</label>
          <select id={`${reasonId}-scheduler`} value={scheduler?.name ?? ''} onChange={(e) => choose(e.target.value)}>
            {candidates.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {candidates.length === 1 && scheduler && (
        <p className="muted hint">
          Through the force scheduler <span className="mono">{scheduler.name}</span>
          {params.length === 0 ? ' (no parameters)' : ''}.
        </p>
      )}
      {candidates.length === 0 && <p className="muted hint">No force scheduler covers this builder: a plain force with the builder's own properties.</p>}
      {params.map(([name, param]) => (
        <ParamField
          key={`${scheduler?.name}:${name}`}
          name={name}
          param={param}
          value={current[name] ?? ''}
          error={problem?.param === name ? problem.message : undefined}
          onChange={(value) => setValues({ ...current, [name]: value })}
        />
      ))}
      <div className="field">
        <label htmlFor={reasonId}>Reason</label>
        <input
          id={reasonId}
          type="text"
          value={reason}
          maxLength={2000}
          placeholder="why (optional)"
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={problem?.reasonField ? true : undefined}
          aria-describedby={problem?.reasonField ? `${reasonId}-error` : undefined}
        />
        {problem?.reasonField && (
          <span id={`${reasonId}-error`} className="field-error" role="alert">
            {problem.message}
          </span>
        )}
      </div>
      {topProblem && (
        <p className="error" role="alert">
          {topProblem.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Forcing…' : `Force ${builder}`}
        </button>
      </div>
      {queued && <QueuedRequest key={queued.id} builder={builder} request={queued} />}
    </form>
  );
}
