/**
 * Workers: every worker (the config file's and those that joined through
 * an application) with its state (icon and word), its dimensions, who looks
 * after it, what it builds now, when it was last heard from, its uptime
 * over the last 7 days and how many builds it ran; an on-demand instance
 * also shows its pool, instance state, age and cost (with a link to the cost
 * page once instances ran); then the retired ones, whose history
 * stays.
 */
import { Link } from 'react-router';
import { useInstances, useRetiredWorkers, useWorkers } from '../api/queries.js';
import { WorkerAdmins } from '../components/admin-contact.js';
import { DimensionPills } from '../components/selector-pills.js';
import { InstanceSummary } from '../components/instance-state.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { Uptime } from '../components/uptime.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import '../components/farm-views.css';

/** The workers page. */
export function WorkersPage() {
  return (
    <>
      <CurrentWorkers />
      <OnDemandLink />
      <RetiredWorkers />
    </>
  );
}

function CurrentWorkers() {
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
                      {worker.source === 'registered' && (
                        <span className="muted" title="joined through a volunteer's application">
                          {' '}
                          (joined)
                        </span>
                      )}
                      {worker.instance && (
                        <div>
                          <InstanceSummary instance={worker.instance} />
                        </div>
                      )}
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

/**
 * With on-demand instances (running now, or in the last 31 days): how many
 * run, and the way to their spend and history. Not from /cost, which a
 * master without pools answers with 503.
 */
function OnDemandLink() {
  const workers = useWorkers();
  const instances = useInstances(31);
  const running = (workers.data ?? []).filter((w) => w.instance !== null && w.instance.stopped_at === null).length;
  if (running === 0 && !instances.data?.length) return null;
  return (
    <p>
      On-demand instances: {running} running. <Link to="/cost">Spend, budget and instances</Link>
    </p>
  );
}

/** Retired workers, most recently retired first; their pages keep their builds. */
function RetiredWorkers() {
  const retired = useRetiredWorkers();
  if (retired.isError) return <ErrorMessage error={retired.error} />;
  if (!retired.data || retired.data.length === 0) return null;
  return (
    <section aria-labelledby="retired-title">
      <h2 id="retired-title">Retired workers</h2>
      <div className="table-wrap">
        <table aria-labelledby="retired-title">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Retired</th>
              <th scope="col" className="hide-narrow">Dimensions</th>
              <th scope="col" className="hide-narrow">Joined</th>
              <th scope="col">Builds run</th>
            </tr>
          </thead>
          <tbody>
            {retired.data.map((w) => (
              <tr key={w.name}>
                <td>
                  <Link to={`/workers/${encodeURIComponent(w.name)}`}>{w.name}</Link>
                </td>
                <td className="nowrap">
                  <Ago at={w.retired_at} /> <span className="muted">by {w.retired_by ?? 'an operator'}</span>
                </td>
                <td className="hide-narrow">
                  <DimensionPills dimensions={w.dimensions} />
                </td>
                <td className="hide-narrow nowrap">
                  application #{w.application_id}, <Ago at={w.created_at} />
                </td>
                <td>{w.builds_run}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
