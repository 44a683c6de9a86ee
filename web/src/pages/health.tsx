/**
 * Farm health (`/farm-health`; `/health` is the master's liveness check): the farm's score and each platform's, what to
 * act on first, the score's history (`?days=`), then the builders red for
 * long or stale, how long requests wait for a worker, the suspect workers
 * with the builds that make the case, and the missing and orphaned workers
 * with whom to ask.
 */
import { Link, useSearchParams } from 'react-router';
import type { HealthJson } from '../../../src/master/api/schemas.js';
import { useHealth, useHealthHistory } from '../api/queries.js';
import { AdminContact } from '../components/admin-contact.js';
import { scoreLines, scoreTrend, type ScoreSample } from '../components/sparkline.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago, formatDuration } from '../components/time.js';
import { WorkerStateBadge } from '../components/worker-state-badge.js';
import './fleet-pages.css';

/** The history spans offered (`?days=`). */
const SPANS = [7, 30, 90] as const;
/** Platform lines' colours, in name order (the farm's line is the accent colour). */
const PALETTE = ['#1f6fb2', '#9a6700', '#7b3fa0', '#c62828', '#2f8a3e', '#5d6670', '#d35400', '#008080'];
const BOX = { width: 640, height: 150, padLeft: 30, padBottom: 18 };

const builderLink = (name: string) => <Link to={`/builders/${encodeURIComponent(name)}`}>{name}</Link>;
const workerLink = (name: string) => <Link to={`/workers/${encodeURIComponent(name)}`}>{name}</Link>;

/** Green from 90, amber from 60, red below. */
function scoreClass(score: number): string {
  return score >= 90 ? 'result result-success' : score >= 60 ? 'result result-warnings' : 'result result-failure';
}

/** The health page. */
export function HealthPage() {
  const health = useHealth();
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
      <ScoreHistory />
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
      <QueueWaits waits={h.queue_waits} />
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

/** The score over the last `?days=` as an inline SVG: the farm's line and one per platform. */
function ScoreHistory() {
  const [params, setParams] = useSearchParams();
  const asked = Number(params.get('days'));
  const days = (SPANS as readonly number[]).includes(asked) ? asked : 30;
  const history = useHealthHistory(days);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Score history</h2>
      <p className="filters" role="group" aria-label="History span">
        {SPANS.map((span) => (
          <button key={span} type="button" className="pill" aria-pressed={span === days} onClick={() => setParams({ days: String(span) }, { replace: true })}>
            {span} days
          </button>
        ))}
      </p>
      {history.isPending && <Loading what="the score history" />}
      {history.isError && <ErrorMessage error={history.error} />}
      {history.data && history.data.length === 0 && (
        <p className="muted">No score recorded in the last {days} days yet: the master records one every `fleet.health.sample_every` (1 h by default).</p>
      )}
      {history.data && history.data.length > 0 && <Sparkline samples={history.data} days={days} />}
    </section>
  );
}

function Sparkline({ samples, days }: { samples: ScoreSample[]; days: number }) {
  const lines = scoreLines(samples, BOX);
  const trend = scoreTrend(samples);
  const plotH = BOX.height - BOX.padBottom;
  const colour = (i: number) => PALETTE[i % PALETTE.length]!;
  const summary = trend
    ? `Farm score ${trend.now} now, ${trend.change === 0 ? 'unchanged' : `${trend.change > 0 ? 'up' : 'down'} ${Math.abs(trend.change)}`} over ${samples.length} sample${samples.length === 1 ? '' : 's'} in the last ${days} days`
    : '';
  return (
    <figure style={{ margin: 0 }}>
      <svg className="sparkline" viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-label={summary}>
        {[0, 50, 100].map((score) => {
          const y = plotH - (score / 100) * plotH;
          return (
            <g key={score}>
              <line className="grid" x1={BOX.padLeft} x2={BOX.width} y1={y} y2={y} />
              <text x={BOX.padLeft - 4} y={Math.max(10, y + 4)} textAnchor="end">
                {score}
              </text>
            </g>
          );
        })}
        {lines.platforms.map((p, i) =>
          p.runs.map((points, j) => <polyline key={`${p.name}-${j}`} className="platform" points={points} stroke={colour(i)} />),
        )}
        {lines.farm.map((points, j) => (
          <polyline key={`farm-${j}`} className="farm" points={points} />
        ))}
        {/* The latest score as a dot: with a single sample, the only mark. */}
        {lastPoint(lines.farm) && <circle className="farm-dot" cx={lastPoint(lines.farm)![0]} cy={lastPoint(lines.farm)![1]} r={3.5} />}
        <text x={BOX.padLeft} y={BOX.height - 4}>
          {new Date(lines.from).toLocaleDateString()}
        </text>
        <text x={BOX.width - 2} y={BOX.height - 4} textAnchor="end">
          {new Date(lines.to).toLocaleString()}
        </text>
      </svg>
      <figcaption>
        <ul className="legend">
          <li>
            <span className="swatch" style={{ background: 'var(--accent)' }} />
            farm
          </li>
          {lines.platforms.map((p, i) => (
            <li key={p.name}>
              <span className="swatch" style={{ background: colour(i) }} />
              {p.name}
            </li>
          ))}
        </ul>
        <span className="muted">{summary}.</span>
      </figcaption>
    </figure>
  );
}

/** The last point of the last run, as numbers. */
function lastPoint(runs: string[]): [number, number] | null {
  const point = runs[runs.length - 1]?.split(' ').pop();
  if (!point) return null;
  const [x, y] = point.split(',').map(Number);
  return x === undefined || y === undefined ? null : [x, y];
}

/** Queue waits per builder and platform, longest p95 first (as the API orders them). */
function QueueWaits({ waits }: { waits: HealthJson['queue_waits'] }) {
  return (
    <section aria-labelledby="waits-title">
      <h2 id="waits-title">Queue waits</h2>
      {waits.length === 0 ? (
        <p className="muted">No build started in the window (`fleet.health.queue_wait_window`, 7 days by default).</p>
      ) : (
        <div className="table-wrap">
          <table aria-labelledby="waits-title">
            <thead>
              <tr>
                <th scope="col">builder</th>
                <th scope="col">platform</th>
                <th scope="col">builds</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {waits.map((w) => (
                <tr key={`${w.builder}/${w.platform}`}>
                  <td>{builderLink(w.builder)}</td>
                  <td>{w.platform}</td>
                  <td>{w.builds}</td>
                  <td className="nowrap" title={`${w.p50_ms} ms`}>
                    {formatDuration(w.p50_ms)}
                  </td>
                  <td className="nowrap" title={`${w.p95_ms} ms`}>
                    {formatDuration(w.p95_ms)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
