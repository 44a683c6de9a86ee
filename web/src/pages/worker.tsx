/**
 * One worker: its state, dimensions and what its agent reported (os, arch,
 * hostname, agent version, admin), where it comes from (the config file or
 * a volunteer's application, or an on-demand pool with the instance's state,
 * life and cost) and its maintenance windows, its uptime over 7
 * and 30 days and how many builds it ran, the builds it runs now and its
 * recent builds, paged with `?before=`. With a token, a registered worker
 * can be retired here; a retired worker's page still shows its history.
 */
import { useQueryClient } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, apiPost, type InstanceJson, type RetiredWorkerJson, type WorkerJson } from '../api/client.js';
import { queryKeys, useApplications, useBuilds, useRetiredWorkers, useWorker } from '../api/queries.js';
import { useToken } from '../api/token.js';
import { WorkerAdmins } from '../components/admin-contact.js';
import { parseCursor } from '../components/build-list.js';
import { BuildPager, BuildTable } from '../components/build-table.js';
import { InstanceSummary } from '../components/instance-state.js';
import { DimensionPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago, formatDuration } from '../components/time.js';
import { Uptime } from '../components/uptime.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import '../components/farm-views.css';
import { connectDelay, formatMoney, instanceReason, notConnectedText } from './cost-view.js';

const PAGE = 30;
/** What the agent reports that is worth a line of its own, in this order. */
const INFO_KEYS = ['os', 'arch', 'hostname', 'cpus', 'agent_version'] as const;

/** Where each maintenance window was declared. */
const WINDOW_FROM: Record<WorkerJson['maintenance'][number]['from'], string> = {
  config: "the master's config",
  agent: "the agent's own config",
  admin: 'set by its admin (shepherd worker maintenance)',
};

function infoText(value: unknown): string | null {
  if (typeof value === 'string') return value || null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** The worker page. */
export function WorkerPage() {
  const name = useParams().name ?? '';
  const [params] = useSearchParams();
  const before = parseCursor(params.get('before'));
  const worker = useWorker(name);
  const running = useBuilds({ worker: name, state: 'running', limit: 50 });
  const builds = useBuilds({ worker: name, limit: PAGE, ...(before !== undefined ? { before } : {}) });

  if (worker.isPending) return <Loading what={`worker ${name}`} />;
  if (worker.isError && worker.error instanceof ApiError && worker.error.status === 404) {
    return <RetiredOrUnknown name={name} error={worker.error} builds={builds} before={before} />;
  }
  if (worker.isError) {
    return (
      <section>
        <h1>{name}</h1>
        <ErrorMessage error={worker.error} />
        <p>
          <Link to="/workers">All workers</Link>
        </p>
      </section>
    );
  }
  const w = worker.data;
  const info = w.info ?? {};
  return (
    <>
      <section aria-labelledby="worker-title">
        <div className="page-head">
          <h1 id="worker-title">{w.name}</h1>
          <WorkerStateBadge state={w.state} />
        </div>
        <dl className="kv">
          <dt>Dimensions</dt>
          <dd>
            <DimensionPills dimensions={w.dimensions} />
          </dd>
          <dt>Admin</dt>
          <dd>
            <WorkerAdmins worker={w} />
          </dd>
          <dt>Source</dt>
          <dd>
            <WorkerSource worker={w} />
          </dd>
          {w.notes && (
            <>
              <dt>Notes</dt>
              <dd>{w.notes}</dd>
            </>
          )}
          {w.paused && (
            <>
              <dt>Paused</dt>
              <dd>
                by {w.paused.by ?? 'its admin'} <Ago at={w.paused.at} />
              </dd>
            </>
          )}
          {INFO_KEYS.map((key) => {
            const text = infoText(info[key]);
            return text === null ? null : (
              <Fragment key={key}>
                <dt>{key.replace('_', ' ')}</dt>
                <dd className={key === 'agent_version' ? 'mono' : undefined}>{text}</dd>
              </Fragment>
            );
          })}
          <dt>Builds at once</dt>
          <dd>{w.max_builds}</dd>
          <dt>Protocol</dt>
          <dd>{w.protocol ?? <span className="muted">—</span>}</dd>
          <dt>{w.connected ? 'Connected' : 'Last seen'}</dt>
          <dd>{w.connected ? <Ago at={w.connected_at} /> : <Ago at={w.last_seen} />}</dd>
          <dt>Uptime</dt>
          <dd>
            <Uptime worker={w} over="d7" /> over 7 days, <Uptime worker={w} over="d30" /> over 30 days
          </dd>
          <dt>Builds run</dt>
          <dd>{w.builds_run}</dd>
          <dt>Maintenance</dt>
          <dd>
            {w.maintenance.length === 0 ? (
              <span className="muted">no windows</span>
            ) : (
              <ul className="plain-list">
                {w.maintenance.map((m) => (
                  <li key={`${m.from}:${m.cron}:${m.duration_ms}`}>
                    <code>{m.cron}</code> (UTC) for {formatDuration(m.duration_ms)} <span className="muted">— {WINDOW_FROM[m.from]}</span>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
        {!w.info && <p className="muted">This worker has not connected since the master started: nothing reported yet.</p>}
        {w.source === 'registered' && <RetireAction worker={w} />}
      </section>

      <section aria-labelledby="current-title">
        <h2 id="current-title">Building now</h2>
        {running.isError && <ErrorMessage error={running.error} />}
        {running.data && running.data.builds.length === 0 && <p className="muted">Nothing.</p>}
        {running.data && running.data.builds.length > 0 && (
          <BuildTable builds={running.data.builds} caption={`Builds running on ${w.name}`} showBuilder showWorker={false} />
        )}
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent builds</h2>
        {builds.isPending && <Loading what="builds" />}
        {builds.isError && <ErrorMessage error={builds.error} />}
        {builds.data && builds.data.builds.length === 0 && <p className="muted">{before === undefined ? 'No builds yet.' : 'No older builds.'}</p>}
        {builds.data && builds.data.builds.length > 0 && (
          <BuildTable builds={builds.data.builds} caption={`Recent builds on ${w.name}`} showBuilder showWorker={false} />
        )}
        {builds.data && <BuildPager next={builds.data.next} before={before} />}
      </section>
    </>
  );
}

/** "from the config file", or "joined via application #N" (the number needs the token: applications are the operators'). */
function WorkerSource({ worker }: { worker: WorkerJson }) {
  if (worker.instance) return <InstanceSource instance={worker.instance} />;
  if (worker.source === 'latent') return <span>an on-demand pool</span>;
  return worker.source === 'config' ? <span>the master's config file</span> : <RegisteredSource worker={worker} />;
}

/** An on-demand instance: its pool and provider, state, life and cost so far. */
function InstanceSource({ instance }: { instance: InstanceJson }) {
  const connected = connectDelay(instance);
  const reason = instanceReason(instance);
  return (
    <>
      <InstanceSummary instance={instance} />
      <br />
      <span className="muted">
        {instance.provider} instance{instance.provider_id ? ` ${instance.provider_id}` : ''}, started <Ago at={instance.started_at} />,{' '}
        {connected === null ? `${notConnectedText(instance)} connected` : `connected after ${formatDuration(connected)}`}, {instance.builds} build
        {instance.builds === 1 ? '' : 's'}, cost {formatMoney(instance.cost)}
        {reason && ` — ${reason}`}
      </span>
    </>
  );
}

function RegisteredSource({ worker }: { worker: WorkerJson }) {
  const { token } = useToken();
  const applications = useApplications();
  const application = applications.data?.find((a) => a.state === 'approved' && a.worker === worker.name);
  if (application) {
    return (
      <span>
        joined via <Link to="/applications">application #{application.id}</Link> (approved by {application.decided_by ?? 'an operator'}{' '}
        <Ago at={application.decided_at} />)
      </span>
    );
  }
  return <span>joined via a volunteer's application{token ? '' : ' (enter the API token to see which)'}</span>;
}

/** Retire, for a registered worker with a token: asked twice, since the worker can no longer connect afterwards. */
function RetireAction({ worker }: { worker: WorkerJson }) {
  const { token, markRefused } = useToken();
  const client = useQueryClient();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (!token) return null;

  async function retire() {
    setBusy(true);
    setProblem(null);
    try {
      await apiPost<RetiredWorkerJson>(`/workers/${encodeURIComponent(worker.name)}/retire`, {}, token);
      setAsking(false);
      await client.invalidateQueries({ queryKey: queryKeys.workersAll });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) markRefused();
      // 409 while it builds: the master's message says to pause it first.
      setProblem(error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="actions" style={{ marginTop: '0.8rem' }}>
      {!asking ? (
        <button type="button" onClick={() => setAsking(true)}>
          Retire…
        </button>
      ) : (
        <>
          <span>
            Retire <strong>{worker.name}</strong>? It can no longer connect; its builds and history stay.
          </span>
          <button type="button" className="primary" onClick={() => void retire()} disabled={busy}>
            Retire {worker.name}
          </button>
          <button type="button" onClick={() => setAsking(false)} disabled={busy}>
            Cancel
          </button>
        </>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** A name the master no longer knows as a worker: a retired one keeps its page (its history), else the error. */
function RetiredOrUnknown({
  name,
  error,
  builds,
  before,
}: {
  name: string;
  error: ApiError;
  builds: ReturnType<typeof useBuilds>;
  before: number | undefined;
}) {
  const retired = useRetiredWorkers();
  const found = retired.data?.find((r) => r.name === name);
  if (retired.isPending) return <Loading what={`worker ${name}`} />;
  if (!found) {
    return (
      <section>
        <h1>{name}</h1>
        <ErrorMessage error={error} />
        <p>
          <Link to="/workers">All workers</Link>
        </p>
      </section>
    );
  }
  return (
    <>
      <section aria-labelledby="worker-title">
        <div className="page-head">
          <h1 id="worker-title">{found.name}</h1>
          <span className="state state-offline">retired</span>
        </div>
        <dl className="kv">
          <dt>Retired</dt>
          <dd>
            <Ago at={found.retired_at} /> by {found.retired_by ?? 'an operator'}
          </dd>
          <dt>Source</dt>
          <dd>joined via application #{found.application_id}, <Ago at={found.created_at} /></dd>
          <dt>Dimensions</dt>
          <dd>
            <DimensionPills dimensions={found.dimensions} />
          </dd>
          <dt>Admin</dt>
          <dd>{found.admins.length === 0 ? <span className="muted">—</span> : found.admins.join(', ')}</dd>
          <dt>Builds run</dt>
          <dd>{found.builds_run}</dd>
        </dl>
        <p>
          <Link to="/workers#retired-title">All retired workers</Link>
        </p>
      </section>
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Builds it ran</h2>
        {builds.isError && <ErrorMessage error={builds.error} />}
        {builds.data && builds.data.builds.length === 0 && <p className="muted">{before === undefined ? 'No builds.' : 'No older builds.'}</p>}
        {builds.data && builds.data.builds.length > 0 && (
          <BuildTable builds={builds.data.builds} caption={`Builds ${found.name} ran`} showBuilder showWorker={false} />
        )}
        {builds.data && <BuildPager next={builds.data.next} before={before} />}
      </section>
    </>
  );
}
