/**
 * Farm health (`/farm-health`; `/health` is the master's liveness check): the farm's score and each platform's, what to
 * act on first, then the builders red for long or stale, the suspect
 * workers with the builds that make the case, and the missing and orphaned
 * workers with whom to ask.
 */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { HealthJson } from '../../../src/master/api/schemas.js';
import { apiGet } from '../api/client.js';
import { queryKeys } from '../api/queries.js';
import { AdminContact } from '../components/admin-contact.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';

/** Health refreshes with the workers (worker events invalidate the `workers` family), and every minute for builds. */
const healthKey = [...queryKeys.workersAll, 'health'] as const;

const builderLink = (name: string) => <Link to={`/builders/${encodeURIComponent(name)}`}>{name}</Link>;
const workerLink = (name: string) => <Link to={`/workers/${encodeURIComponent(name)}`}>{name}</Link>;

/** Green from 90, amber from 60, red below. */
function scoreClass(score: number): string {
  return score >= 90 ? 'result result-success' : score >= 60 ? 'result result-warnings' : 'result result-failure';
}

/** The health page. */
export function HealthPage() {
  const health = useQuery({
    queryKey: healthKey,
    queryFn: ({ signal }) => apiGet<HealthJson>('/health', signal),
    refetchInterval: 60_000,
  });
  if (health.isPending) return <Loading what="farm health" />;
  if (health.isError) return <ErrorMessage error={health.error} />;
  const h = health.data;
  return (
    <>
      <section>
        <h1>
          Farm health <span className={scoreClass(h.score)}>{h.score}/100</span>
        </h1>
        <p className="muted">
          Platform coverage (50 points, tier-weighted), missing and orphaned workers (20), builders red for long or stale (20), suspect workers
          (10). See docs/fleet.md.
        </p>
        <h2>Act on</h2>
        {h.attention.length === 0 ? (
          <p className="muted">Nothing: every platform is covered and nothing is wrong.</p>
        ) : (
          <ol>
            {h.attention.map((a) => (
              <li key={`${a.kind}-${a.subject}`}>
                {a.message} <span className="muted">(−{a.points.toFixed(1)})</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section>
        <h2>Platforms</h2>
        {h.platforms.length === 0 ? (
          <p className="muted">No platforms are configured: add them under `platforms:` in the master's config (see docs/fleet.md).</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>platform</th>
                  <th>tier</th>
                  <th>score</th>
                  <th>live / wanted</th>
                </tr>
              </thead>
              <tbody>
                {h.platforms.map((p) => (
                  <tr key={p.name}>
                    <td>
                      <Link to="/coverage">
                        <strong>{p.name}</strong>
                      </Link>
                    </td>
                    <td>{p.tier}</td>
                    <td>
                      <span className={scoreClass(p.score)}>{p.score}</span>
                    </td>
                    <td>
                      {p.live} / {p.redundancy}{' '}
                      {p.short && (
                        <span className="result result-failure" title="fewer live workers than wanted">
                          ✖ short
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section>
        <h2>Builders red for long</h2>
        {h.red_builders.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul>
            {h.red_builders.map((r) => (
              <li key={r.builder}>
                {builderLink(r.builder)}: {r.count} failing build{r.count === 1 ? '' : 's'} in a row, red since <Ago at={r.since} /> (
                <Link to={`/builds/${r.first_failing_build_id}`}>first failure</Link>)
              </li>
            ))}
          </ul>
        )}
        <h2>Stale builders</h2>
        {h.stale_builders.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul>
            {h.stale_builders.map((s) => (
              <li key={s.builder}>
                {builderLink(s.builder)}: a request waiting since <Ago at={s.since} />, no build finishing
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Suspect workers</h2>
        {h.suspect_workers.length === 0 ? (
          <p className="muted">None: no worker fails where its peers pass.</p>
        ) : (
          <ul>
            {h.suspect_workers.map((s) => (
              <li key={s.worker}>
                {workerLink(s.worker)}: failed {s.count} revisions that other workers passed
                <ul>
                  {s.evidence.map((e) => (
                    <li key={`${e.builder}-${e.revision}`}>
                      {builderLink(e.builder)} at <code>{e.revision.slice(0, 12)}</code>:{' '}
                      <Link to={`/builds/${e.failed_build_id}`}>failed here</Link> <Ago at={e.failed_at} />,{' '}
                      <Link to={`/builds/${e.passed_build_id}`}>passed on {e.passed_on}</Link>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Missing and orphaned workers</h2>
        {h.missing_workers.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>worker</th>
                  <th>state</th>
                  <th>last seen</th>
                  <th>admins</th>
                </tr>
              </thead>
              <tbody>
                {h.missing_workers.map((w) => (
                  <tr key={w.name}>
                    <td>{workerLink(w.name)}</td>
                    <td>
                      <WorkerStateBadge state={w.state} />
                    </td>
                    <td>{w.since === null ? <span className="muted">never</span> : <Ago at={w.since} />}</td>
                    <td>
                      {w.admins.length === 0 ? (
                        <span className="muted">none known</span>
                      ) : (
                        w.admins.map((a, i) => (
                          <span key={a}>
                            {i > 0 && ', '}
                            <AdminContact admin={a} />
                          </span>
                        ))
                      )}
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
