/**
 * The pieces both tables are made of. A cell's builds are plain anchors
 * returned by a function, not components: 200 builders × 50 changes is
 * 10,000 cells, and one click handler on the table (useSpaClick) routes them
 * all without a router hook per link.
 */
import { useCallback, type MouseEvent, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { resultLook } from '../components/result.js';
import type { GridBuild, GridModel } from './grid-model.js';

/** At most this many builds show in one cell; the rest are a "+N" link to the builder. */
const MAX_SQUARES = 4;

/** The build squares of one cell: colour, icon and a tooltip; a collapsed build's older changes get an outlined square. */
export function buildSquares(model: GridModel, changeId: number, builder: string): ReactNode {
  const builds = model.cell(changeId, builder);
  if (builds.length === 0) return null;
  const shown = builds.length > MAX_SQUARES ? builds.slice(0, MAX_SQUARES - 1) : builds;
  const squares: ReactNode[] = shown.map((build) => square(model, changeId, build));
  if (shown.length < builds.length) {
    const more = builds.length - shown.length;
    squares.push(
      <a key="more" className="gb gb-more" href={`/builders/${encodeURIComponent(builder)}`} title={`${more} more builds of ${builder}`}>
        +{more}
      </a>,
    );
  }
  return squares;
}

function square(model: GridModel, changeId: number, build: GridBuild): ReactNode {
  const look = resultLook(build.result, build.state);
  const span = model.span(build.build_id);
  const tip = model.isTip(build.build_id, changeId);
  let title = `${build.builder} #${build.number} ${look.label}`;
  if (span > 1) title += tip ? ` (built ${span} changes together)` : ' (built at a newer change that includes this one)';
  return (
    <a key={build.build_id} className={`gb gb-${look.key}${tip ? '' : ' gb-covered'}`} href={`/builds/${build.build_id}`} title={title} aria-label={title}>
      {look.icon}
    </a>
  );
}

/** One click handler for every plain in-app link inside a table: client-side navigation, new tabs left alone. */
export function useSpaClick() {
  const navigate = useNavigate();
  return useCallback(
    (event: MouseEvent<HTMLElement>) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const anchor = (event.target as Element).closest('a');
      const href = anchor?.getAttribute('href');
      if (!anchor || !href?.startsWith('/') || anchor.target) return;
      event.preventDefault();
      void navigate(href);
    },
    [navigate],
  );
}

const LEGEND: { result: string | null; state?: string }[] = [
  { result: 'SUCCESS' },
  { result: 'WARNINGS' },
  { result: 'FAILURE' },
  { result: 'EXCEPTION' },
  { result: 'RETRY' },
  { result: 'CANCELLED' },
  { result: null, state: 'running' },
];

/** What the squares mean. */
export function Legend() {
  return (
    <ul className="gv-legend" aria-label="Legend">
      {LEGEND.map(({ result, state }) => {
        const look = resultLook(result, state);
        return (
          <li key={look.key}>
            <span className={`gb gb-${look.key}`} aria-hidden="true">
              {look.icon}
            </span>{' '}
            {look.label}
          </li>
        );
      })}
      <li>
        <span className="gb gb-success gb-covered" aria-hidden="true">
          ✔
        </span>{' '}
        built with a newer change
      </li>
    </ul>
  );
}

/** Why a table is empty, and what to do about it. */
export function GridEmpty({ model, filtered, branch, onClear }: { model: GridModel; filtered: boolean; branch?: string | undefined; onClear: () => void }) {
  const clear = filtered ? (
    <>
      {' '}
      <button type="button" onClick={onClear}>
        Clear the filters
      </button>
    </>
  ) : null;
  if (model.changes.length === 0) {
    if (filtered && branch) {
      return (
        <p className="gv-empty">
          No changes on branch <code>{branch}</code> yet.{clear}
        </p>
      );
    }
    return (
      <div className="gv-empty">
        <p>
          <strong>No changes yet.</strong> These views show builds per commit, and commits come from change sources: a{' '}
          <code>sources:</code> entry in the master's config that polls a git repository, or receives its webhooks (GitHub,
          GitLab, Gitea).
        </p>
        <p className="muted">
          Push a commit to a followed branch, or ask for a poll now with <code>POST /api/v1/sources/NAME/poll</code>. Builds
          forced by hand have no change, so they appear on the <Link to="/builders">builders</Link> pages instead. See
          docs/changes.md, "Change sources".
        </p>
      </div>
    );
  }
  if (model.builders.length === 0) {
    return <p className="gv-empty">{filtered ? <>No builder matches these filters.{clear}</> : 'No builders are configured.'}</p>;
  }
  return null;
}
