/**
 * One worker: its state, dimensions and what its agent reported (os, arch,
 * hostname, agent version, admin), its uptime over 7 and 30 days and how
 * many builds it ran, the builds it runs now and its recent builds, paged
 * with `?before=`.
 */
import { Fragment } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useBuilds, useWorker } from '../api/queries.js';
import { WorkerAdmins } from '../components/admin-contact.js';
import { parseCursor } from '../components/build-list.js';
import { BuildPager, BuildTable } from '../components/build-table.js';
import { DimensionPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { Uptime } from '../components/uptime.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import '../components/farm-views.css';

const PAGE = 30;
/** What the agent reports that is worth a line of its own, in this order. */
const INFO_KEYS = ['os', 'arch', 'hostname', 'cpus', 'agent_version'] as const;

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
        </dl>
        {!w.info && <p className="muted">This worker has not connected since the master started: nothing reported yet.</p>}
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
