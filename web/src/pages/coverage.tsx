/**
 * Coverage (`/coverage`): each platform against the redundancy it wants,
 * tier 1 and the shortest first, with its builders and last green build;
 * then the answer to "what kinds of workers are we lacking?" and the
 * builders nobody can or does run.
 */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { CoverageJson } from '../../../src/master/api/schemas.js';
import { apiGet } from '../api/client.js';
import { queryKeys } from '../api/queries.js';
import { DimensionPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';

/** The coverage page. */
export function CoveragePage() {
  const coverage = useQuery({ queryKey: queryKeys.coverage, queryFn: ({ signal }) => apiGet<CoverageJson>('/coverage', signal) });
  if (coverage.isPending) return <Loading what="coverage" />;
  if (coverage.isError) return <ErrorMessage error={coverage.error} />;
  const { platforms, lacking, uncoverable_builders: uncoverable, unrun_builders: unrun } = coverage.data;
  return (
    <>
      <section>
        <h1>Coverage</h1>
        {platforms.length === 0 ? (
          <p className="muted">No platforms are configured: add them under `platforms:` in the master's config (see docs/fleet.md).</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>platform</th>
                  <th>tier</th>
                  <th>live / wanted</th>
                  <th className="hide-narrow">dimensions</th>
                  <th className="hide-narrow">builders</th>
                  <th>last green</th>
                </tr>
              </thead>
              <tbody>
                {platforms.map((p) => (
                  <tr key={p.name}>
                    <td>
                      <strong>{p.name}</strong>
                    </td>
                    <td>{p.tier}</td>
                    <td>
                      {p.live.length} / {p.redundancy}{' '}
                      {p.short ? (
                        <span className="result result-failure" title="fewer live workers than wanted">
                          ✖ short
                        </span>
                      ) : (
                        <span className="result result-success">✔ covered</span>
                      )}
                      <div className="muted">
                        {p.workers.length === 0
                          ? 'no worker'
                          : p.workers.map((w, i) => (
                              <span key={w}>
                                {i > 0 && ', '}
                                <Link to={`/workers/${encodeURIComponent(w)}`}>{w}</Link>
                                {p.live.includes(w) ? '' : ' (down)'}
                              </span>
                            ))}
                      </div>
                    </td>
                    <td className="hide-narrow">
                      <DimensionPills dimensions={p.select} />
                    </td>
                    <td className="hide-narrow">
                      {p.builders.map((b, i) => (
                        <span key={b}>
                          {i > 0 && ', '}
                          <Link to={`/builders/${encodeURIComponent(b)}`}>{b}</Link>
                        </span>
                      ))}
                    </td>
                    <td>
                      {p.last_green ? (
                        <Link to={`/builds/${p.last_green.id}`}>
                          {p.last_green.builder} #{p.last_green.number} <Ago at={p.last_green.finished_at} />
                        </Link>
                      ) : (
                        <span className="muted">never</span>
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
        <h2>Workers we lack</h2>
        {lacking.length === 0 ? (
          <p className="muted">Every platform has the live workers it wants.</p>
        ) : (
          <ul>
            {lacking.map((l) => (
              <li key={l.platform}>
                {l.need} more live worker{l.need === 1 ? '' : 's'} with <DimensionPills dimensions={l.select} /> ({l.platform}, tier {l.tier})
              </li>
            ))}
          </ul>
        )}
      </section>
      {(uncoverable.length > 0 || unrun.length > 0) && (
        <section>
          <h2>Builders nobody runs</h2>
          <ul>
            {uncoverable.map((b) => (
              <li key={`u-${b}`}>
                <Link to={`/builders/${encodeURIComponent(b)}`}>{b}</Link>: no configured worker has the dimensions it needs
              </li>
            ))}
            {unrun.map((b) => (
              <li key={`r-${b}`}>
                <Link to={`/builders/${encodeURIComponent(b)}`}>{b}</Link>: every worker that can run it is disconnected
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
