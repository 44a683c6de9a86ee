/**
 * The grid (`/grid`): builders down, recent changes across (newest on the
 * left), each cell the builds of that builder that covered that change.
 * Filters live in the query string; live events refetch the grid, and the
 * previous one stays on screen meanwhile.
 */
import { memo } from 'react';
import { Ago } from '../components/time.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { buildSquares, GridEmpty, Legend, useSpaClick } from '../grid/cells.js';
import { FilterBar, useGridView } from '../grid/filter-bar.js';
import { authorInitials, authorName, firstLine, isFiltered, shortRevision, type GridBuilder, type GridModel } from '../grid/grid-model.js';
import '../grid/grid.css';

interface RowProps {
  model: GridModel;
  builder: GridBuilder;
  /** What the row shows, as a string: the row renders again only when it or the columns change. */
  signature: string;
  columns: string;
}

/** One builder's row; a live update re-renders only the rows whose builds changed. */
const GridRow = memo(
  function GridRow({ model, builder }: RowProps) {
    return (
      <tr>
        <th scope="row" title={builder.tags.length ? `${builder.name} (${builder.tags.join(', ')})` : builder.name}>
          <a href={`/builders/${encodeURIComponent(builder.name)}`}>{builder.name}</a>
        </th>
        {model.changes.map((change) => (
          <td key={change.id}>{buildSquares(model, change.id, builder.name)}</td>
        ))}
      </tr>
    );
  },
  (a, b) => a.builder === b.builder && a.signature === b.signature && a.columns === b.columns,
);

/** The table; memoised on the model so unrelated renders of the page skip 10,000 cells. */
const GridTable = memo(function GridTable({ model }: { model: GridModel }) {
  return (
    <table className="gv-table gv-grid">
      <caption className="sr-only">Builds per builder (rows) and change (columns), newest change first</caption>
      <thead>
        <tr>
          <th scope="col" className="gv-corner">
            Builder
          </th>
          {model.changes.map((change) => (
            <th
              key={change.id}
              scope="col"
              className="gv-change"
              title={`${change.revision}\n${change.author}\n${change.branch}, ${new Date(change.when).toLocaleString()}\n\n${change.message.trim()}`}
            >
              <code>{shortRevision(change.revision)}</code>
              <span className="gv-who" aria-label={authorName(change.author)}>
                {authorInitials(change.author)}
              </span>
              <Ago at={change.when} />
              <span className="sr-only">: {firstLine(change.message)}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {model.builders.map((builder) => (
          <GridRow key={builder.name} model={model} builder={builder} signature={model.builderSignature(builder.name)} columns={model.changeKey} />
        ))}
      </tbody>
    </table>
  );
});

/** Builders × recent changes. */
export function GridPage() {
  const { filter, setFilter, query, model, options } = useGridView();
  const onClick = useSpaClick();
  return (
    <section>
      <h1>Grid</h1>
      <FilterBar filter={filter} setFilter={setFilter} tags={options.tags} branches={options.branches} />
      {query.error && <ErrorMessage error={query.error} />}
      {!model && !query.error && <Loading what="the grid" />}
      {model && model.changes.length > 0 && model.builders.length > 0 && (
        <>
          <Legend />
          <p className="gv-summary muted" aria-live="polite">
            <span>
              {model.builders.length} builders × {model.changes.length} changes
            </span>
            {query.isFetching && query.isPlaceholderData && <span>updating…</span>}
          </p>
          <div className="gv-wrap" onClick={onClick}>
            <GridTable model={model} />
          </div>
        </>
      )}
      {model && (model.changes.length === 0 || model.builders.length === 0) && (
        <GridEmpty model={model} filtered={isFiltered(filter)} branch={filter.branch} onClear={() => setFilter({ changes: filter.changes })} />
      )}
    </section>
  );
}
