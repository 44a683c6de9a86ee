/**
 * Workers: every configured worker with its state (icon and word), its
 * dimensions, who looks after it, what it builds now, when it was last
 * heard from, its uptime over the last 7 days and how many builds it ran.
 */
import { Link } from 'react-router';
import { useWorkers } from '../api/queries.js';
import { WorkerAdmins } from '../components/admin-contact.js';
import { DimensionPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { Uptime } from '../components/uptime.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import '../components/farm-views.css';

/** The workers page. */
export function WorkersPage() {
  const workers = useWorkers();
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers</h1>
      {workers.isPending && <Loading what="workers" />}
      {workers.isError && <ErrorMessage error={workers.error} />}
      {workers.data && workers.data.length === 0 && <p className="muted">No worker is configured.</p>}
      {workers.data && workers.data.length > 0 && (
        <>
          <p className="muted" role="status">
            {workers.data.filter((w) => w.connected).length} of {workers.data.length} connected
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">State</th>
                  <th scope="col" className="hide-narrow">Dimensions</th>
                  <th scope="col" className="hide-narrow">Admin</th>
                  <th scope="col">Building</th>
                  <th scope="col">Last seen</th>
                  <th scope="col" className="hide-narrow">Uptime 7d</th>
                  <th scope="col" className="hide-narrow">Builds run</th>
                  <th scope="col" className="hide-narrow">Protocol</th>
                </tr>
              </thead>
              <tbody>
                {workers.data.map((worker) => (
                  <tr key={worker.name}>
                    <td>
                      <Link to={`/workers/${encodeURIComponent(worker.name)}`}>{worker.name}</Link>
                    </td>
                    <td>
                      <WorkerStateBadge state={worker.state} />
                    </td>
                    <td className="hide-narrow">
                      <DimensionPills dimensions={worker.dimensions} />
                    </td>
                    <td className="hide-narrow">
                      <WorkerAdmins worker={worker} />
                    </td>
                    <td>
                      {worker.builds.length > 0 && (
                        <ul className="inline-list">
                          {worker.builds.map((id) => (
                            <li key={id}>
                              <Link to={`/builds/${id}`}>build {id}</Link>
                            </li>
                          ))}
                        </ul>
                      )}{' '}
                      <span className="muted nowrap" title="builds running / at most">
                        ({worker.builds.length}/{worker.max_builds})
                      </span>
                    </td>
                    <td className="nowrap">{worker.connected ? 'now' : <Ago at={worker.last_seen} />}</td>
                    <td className="hide-narrow">
                      <Uptime worker={worker} over="d7" />
                    </td>
                    <td className="hide-narrow">{worker.builds_run}</td>
                    <td className="hide-narrow">{worker.protocol ?? <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
