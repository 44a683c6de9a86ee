/**
 * One builder: its tags and worker selector, the Force action (only with an
 * API token), the requests waiting for it (with why, when an on-demand pool
 * cannot serve them yet), the workers that can run it with
 * their state, and its recent builds paged with `?before=`.
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { useBuilder, useBuilds, useRequests, useWorkers } from '../api/queries.js';
import { useToken } from '../api/token.js';
import { BuildPager, BuildTable } from '../components/build-table.js';
import { parseCursor } from '../components/build-list.js';
import { ForceForm } from '../components/force-form.js';
import { ResultBadge } from '../components/result.js';
import { SelectorPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import '../components/farm-views.css';
import { waitingById } from './cost-view.js';

const PAGE = 30;

/** The builder page. */
export function BuilderPage() {
  const name = useParams().name ?? '';
  const [params] = useSearchParams();
  const before = parseCursor(params.get('before'));
  const detail = useBuilder(name);
  const workers = useWorkers();
  // The builder's pending list does not say why a request waits; the queue does.
  const queue = useRequests();
  const builds = useBuilds({ builder: name, limit: PAGE, ...(before !== undefined ? { before } : {}) });
  const { token } = useToken();

  if (detail.isPending) return <Loading what={`builder ${name}`} />;
  if (detail.isError) {
    return (
      <section>
        <h1>{name}</h1>
        <ErrorMessage error={detail.error} />
        <p>
          <Link to="/builders">All builders</Link>
        </p>
      </section>
    );
  }
  const { builder, pending } = detail.data;
  const states = new Map((workers.data ?? []).map((w) => [w.name, w.state]));
  const waiting = waitingById(queue.data);
  const whyWaiting = (request: (typeof pending)[number]) => request.waiting ?? waiting.get(request.id);

  return (
    <>
      <section aria-labelledby="builder-title">
        <div className="page-head">
          <h1 id="builder-title">{builder.name}</h1>
          {builder.tags.length > 0 && (
            <span className="pills" aria-label="tags">
              {builder.tags.map((tag) => (
                <Link key={tag} className="pill" to={`/builders?tag=${encodeURIComponent(tag)}`}>
                  {tag}
                </Link>
              ))}
            </span>
          )}
        </div>
        <dl className="kv">
          <dt>Runs on</dt>
          <dd>
            <SelectorPills selector={builder.workers} />
          </dd>
          <dt>Steps</dt>
          <dd>{builder.steps.join(' → ') || <span className="muted">none</span>}</dd>
          <dt>Last build</dt>
          <dd>
            {builder.last_build ? (
              <>
                <ResultBadge result={builder.last_build.result} state={builder.last_build.state} />{' '}
                <Link to={`/builds/${builder.last_build.id}`}>#{builder.last_build.number}</Link>{' '}
                <Ago at={builder.last_build.finished_at ?? builder.last_build.started_at} />
              </>
            ) : (
              <span className="muted">none yet</span>
            )}
          </dd>
        </dl>
      </section>

      {token && (
        <section aria-labelledby="force-title">
          <h2 id="force-title">Force a build</h2>
          <ForceForm builder={builder.name} />
        </section>
      )}

      <section aria-labelledby="pending-title">
        <h2 id="pending-title">Pending requests</h2>
        {pending.length === 0 ? (
          <p className="muted">Nothing is waiting for this builder.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Submitted by</th>
                  <th scope="col">Waiting since</th>
                  <th scope="col" className="hide-narrow">Priority</th>
                </tr>
              </thead>
              <tbody>
                {pending.map((request) => (
                  <tr key={request.id}>
                    <td>
                      {request.id}
                      {request.state === 'claimed' && request.build_id !== null && (
                        <>
                          {' '}
                          <Link to={`/builds/${request.build_id}`}>(starting)</Link>
                        </>
                      )}
                    </td>
                    <td>
                      {request.reason}
                      {whyWaiting(request) && <div className="red-flag">{whyWaiting(request)}</div>}
                    </td>
                    <td>{request.submitted_by ?? <span className="muted">—</span>}</td>
                    <td className="nowrap">
                      <Ago at={request.submitted_at} />
                    </td>
                    <td className="hide-narrow">{request.priority}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="workers-title">
        <h2 id="workers-title">Workers that can run it</h2>
        {detail.data.workers.length === 0 ? (
          <p className="muted">
            {pending.some((request) => whyWaiting(request)) ? (
              // A pool decided about its requests: an on-demand instance can run them, when it may start.
              <>
                No worker matches this builder's selector now: its requests wait for an on-demand instance (see <Link to="/cost">on-demand cost</Link>).
              </>
            ) : (
              "No configured worker matches this builder's selector: its requests wait forever."
            )}
          </p>
        ) : (
          <ul className="worker-list" aria-labelledby="workers-title">
            {detail.data.workers.map((workerName) => {
              const state = states.get(workerName);
              return (
                <li key={workerName}>
                  <Link to={`/workers/${encodeURIComponent(workerName)}`}>{workerName}</Link> {state && <WorkerStateBadge state={state} />}
                </li>
              );
            })}
          </ul>
        )}
      </section>

      <section aria-labelledby="builds-title">
        <h2 id="builds-title">Recent builds</h2>
        {builds.isPending && <Loading what="builds" />}
        {builds.isError && <ErrorMessage error={builds.error} />}
        {builds.data && builds.data.builds.length === 0 && <p className="muted">{before === undefined ? 'No builds yet.' : 'No older builds.'}</p>}
        {builds.data && builds.data.builds.length > 0 && <BuildTable builds={builds.data.builds} caption={`Recent builds of ${builder.name}`} showWorker />}
        {builds.data && <BuildPager next={builds.data.next} before={before} />}
      </section>
    </>
  );
}
