/**
 * A compact table of builds (number, result, revision, blamelist authors,
 * worker, started, duration) and its pager, shared by the builder and worker
 * pages. Blamelist authors come from the recent changes: one query for the
 * whole table instead of one per build.
 */
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { BuildJson } from '../api/client.js';
import { useChanges } from '../api/queries.js';
import { blameAuthorsByBuild, shortRevision } from './build-list.js';
import { ResultBadge } from './result.js';
import { Ago, Elapsed } from './time.js';
import './farm-views.css';

/** How many recent changes to read blamelist authors from. */
const BLAME_WINDOW = 200;

/** Blamelist authors per build id, for builds of the recent changes. */
export function useBlameAuthors(): Map<number, string[]> {
  const changes = useChanges(BLAME_WINDOW);
  return useMemo(() => blameAuthorsByBuild(changes.data?.changes ?? []), [changes.data]);
}

/** The builds, newest first. `showBuilder` adds the builder column, `showWorker: false` drops the worker's. */
export function BuildTable({
  builds,
  caption,
  showBuilder = false,
  showWorker = true,
}: {
  builds: readonly BuildJson[];
  caption: string;
  showBuilder?: boolean;
  showWorker?: boolean;
}) {
  const authors = useBlameAuthors();
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {showBuilder && <th scope="col">Builder</th>}
            <th scope="col">Build</th>
            <th scope="col">Result</th>
            <th scope="col">Revision</th>
            <th scope="col" className="hide-narrow">Blamelist</th>
            {showWorker && <th scope="col" className="hide-narrow">Worker</th>}
            <th scope="col">Started</th>
            <th scope="col" className="hide-narrow">Duration</th>
          </tr>
        </thead>
        <tbody>
          {builds.map((build) => {
            const names = authors.get(build.id);
            return (
              <tr key={build.id}>
                {showBuilder && (
                  <td>
                    <Link to={`/builders/${encodeURIComponent(build.builder)}`}>{build.builder}</Link>
                  </td>
                )}
                <td>
                  <Link to={`/builds/${build.id}`}>#{build.number}</Link>
                </td>
                <td>
                  <ResultBadge result={build.result} state={build.state} />
                </td>
                <td>
                  {build.revision ? (
                    <Link className="mono" to={`/builds/${build.id}`} title={build.revision}>
                      {shortRevision(build.revision)}
                    </Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="hide-narrow">{names && names.length > 0 ? names.join(', ') : <span className="muted">—</span>}</td>
                {showWorker && (
                  <td className="hide-narrow">
                    <Link to={`/workers/${encodeURIComponent(build.worker)}`}>{build.worker}</Link>
                  </td>
                )}
                <td className="nowrap">
                  <Ago at={build.started_at} />
                </td>
                <td className="hide-narrow nowrap">
                  <Elapsed start={build.started_at} end={build.finished_at} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** "Newest" and "older" links over `?before=` (the list's `next` cursor); the back button goes back a page. */
export function BuildPager({ next, before }: { next: number | null; before: number | undefined }) {
  const [params] = useSearchParams();
  if (next === null && before === undefined) return null;
  const older = new URLSearchParams(params);
  if (next !== null) older.set('before', String(next));
  const newest = new URLSearchParams(params);
  newest.delete('before');
  return (
    <nav className="pager" aria-label="Build pages">
      {before !== undefined && <Link to={{ search: newest.toString() }}>« newest</Link>}
      {next !== null && <Link to={{ search: older.toString() }}>older »</Link>}
    </nav>
  );
}
