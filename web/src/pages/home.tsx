/**
 * Home: what needs attention now. The queue, the workers and the builds
 * running as cards; then failing builders (since when, the first failing
 * build and who is in its blamelist), disconnected workers and their admins,
 * and what runs right now. All from GET /api/v1/overview, refreshed live;
 * builders red for longer than `fleet.health.red_for` are flagged from the
 * one GET /api/v1/health (never a request per builder).
 */
import { Link } from 'react-router';
import type { FailingBuilderJson, OverviewJson } from '../../../src/master/api/schemas.js';
import { useHealth, useOverview } from '../api/queries.js';
import { AdminContact } from '../components/admin-contact.js';
import { authorName, shortRevision } from '../components/build-list.js';
import { redStreaks, redStreakText, type RedStreak } from '../components/red-streak.js';
import { ResultBadge } from '../components/result.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago, Elapsed } from '../components/time.js';
import '../components/farm-views.css';

function builderPath(name: string): string {
  return `/builders/${encodeURIComponent(name)}`;
}

function workerPath(name: string): string {
  return `/workers/${encodeURIComponent(name)}`;
}

/** The three figures at the top. */
function Cards({ overview }: { overview: OverviewJson }) {
  const { queue, workers, running } = overview;
  return (
    <div className="cards">
      <div className="card" role="group" aria-labelledby="card-queue">
        <h2 id="card-queue">Queue</h2>
        <div className="figure">{queue.length}</div>
        {queue.oldest ? (
          <p>
            oldest: <Link to={builderPath(queue.oldest.builder)}>{queue.oldest.builder}</Link>, waiting{' '}
            <Elapsed start={queue.oldest.submitted_at} end={null} />
          </p>
        ) : (
          <p className="muted">nothing waiting</p>
        )}
      </div>
      <div className="card" role="group" aria-labelledby="card-workers">
        <h2 id="card-workers">Workers connected</h2>
        <div className="figure">
          {workers.connected} / {workers.total}
        </div>
        <p>
          <Link to="/workers">{workers.offline.length === 0 ? 'all connected' : `${workers.offline.length} disconnected`}</Link>
        </p>
      </div>
      <div className="card" role="group" aria-labelledby="card-running">
        <h2 id="card-running">Builds running</h2>
        <div className="figure">{running.length}</div>
        <p className="muted">{running.length === 0 ? 'the farm is idle' : 'see below'}</p>
      </div>
    </div>
  );
}

/** One failing builder: the last result, since when, the first failing build and its blamelist. */
function FailingBuilder({ failing, red }: { failing: FailingBuilderJson; red: RedStreak | undefined }) {
  const first = failing.first_failing;
  return (
    <li>
      <div className="failing-head">
        <Link className="builder-name" to={builderPath(failing.builder)}>
          {failing.builder}
        </Link>
        <Link to={`/builds/${failing.last.id}`} aria-label={`last build #${failing.last.number}: ${failing.last.result ?? failing.last.state}`}>
          <ResultBadge result={failing.last.result} state={failing.last.state} /> #{failing.last.number}
        </Link>
        <span>
          failing since <Ago at={failing.since} />
          <span className="muted">
            {' '}
            ({failing.failing_builds} build{failing.failing_builds === 1 ? '' : 's'})
          </span>
        </span>
        {red && (
          <Link to="/farm-health" className="result result-failure" title="red for longer than fleet.health.red_for: in the weekly digest">
            ⚑ {redStreakText(red, Date.now())}
          </Link>
        )}
        {failing.tags.length > 0 && (
          <span className="pills">
            {failing.tags.map((tag) => (
              <span key={tag} className="pill">
                {tag}
              </span>
            ))}
          </span>
        )}
      </div>
      <p className="failing-first">
        first failing build <Link to={`/builds/${first.id}`}>#{first.number}</Link>
        {first.blamelist.length === 0 ? <span className="muted"> (no new changes: forced or rebuilt)</span> : ', blamelist:'}
      </p>
      {first.blamelist.length > 0 && (
        <ul className="blame">
          {first.blamelist.map((change) => (
            <li key={change.id}>
              {authorName(change.author)}{' '}
              <Link className="mono" to={`/builds/${first.id}`} title={`${change.revision}: ${change.message.split('\n')[0] ?? ''}`}>
                {shortRevision(change.revision)}
              </Link>{' '}
              <span className="muted">{change.message.split('\n')[0]}</span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** The home page. */
export function HomePage() {
  const overview = useOverview();
  // The flags are extra: the page shows without them when health cannot be read.
  const red = redStreaks(useHealth().data);
  if (overview.isPending) return <Loading what="the overview" />;
  if (overview.isError) return <ErrorMessage error={overview.error} />;
  const data = overview.data;
  return (
    <>
      <section aria-labelledby="home-title">
        <h1 id="home-title">Now</h1>
        <Cards overview={data} />
      </section>

      <section aria-labelledby="failing-title">
        <h2 id="failing-title">Failing builders</h2>
        {data.failing.length === 0 ? (
          <p className="all-green" role="status">
            <span aria-hidden="true">✔ </span>The farm is green: no builder's last build failed.
          </p>
        ) : (
          <ul className="failing-list">
            {data.failing.map((failing) => (
              <FailingBuilder key={failing.builder} failing={failing} red={red.get(failing.builder)} />
            ))}
          </ul>
        )}
      </section>

      {data.workers.offline.length > 0 && (
        <section aria-labelledby="offline-title">
          <h2 id="offline-title">Disconnected workers</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Admin</th>
                </tr>
              </thead>
              <tbody>
                {data.workers.offline.map((worker) => (
                  <tr key={worker.name}>
                    <td>
                      <Link to={workerPath(worker.name)}>{worker.name}</Link>
                    </td>
                    <td className="nowrap">
                      <Ago at={worker.last_seen} />
                    </td>
                    <td>
                      <AdminContact admin={worker.admin} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}

      <section aria-labelledby="running-title">
        <h2 id="running-title">Running now</h2>
        {data.running.length === 0 ? (
          <p className="muted">No build is running.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Build</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Running for</th>
                </tr>
              </thead>
              <tbody>
                {data.running.map((build) => (
                  <tr key={build.id}>
                    <td>
                      <Link to={builderPath(build.builder)}>{build.builder}</Link> <Link to={`/builds/${build.id}`}>#{build.number}</Link>
                    </td>
                    <td>
                      <Link to={workerPath(build.worker)}>{build.worker}</Link>
                    </td>
                    <td className="nowrap">
                      <Elapsed start={build.started_at} end={null} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
