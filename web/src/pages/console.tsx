/**
 * The console (`/console`): recent changes down (newest first) with their
 * revision, author, message, branch and time; builders across, grouped by
 * tag, each cell the builds that covered that change on that builder.
 */
import { memo } from 'react';
import type { ChangeJson } from '../api/client.js';
import { Ago } from '../components/time.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { buildSquares, GridEmpty, Legend, useSpaClick } from '../grid/cells.js';
import { FilterBar, useGridView } from '../grid/filter-bar.js';
import { authorName, firstLine, isFiltered, shortRevision, type GridBuilder, type GridModel } from '../grid/grid-model.js';
import '../grid/grid.css';

/** A change's message: the first line, the rest behind a disclosure when there is more. */
function Message({ message }: { message: string }) {
  const first = firstLine(message);
  const rest = message.trim().slice(message.trim().indexOf(first) + first.length).trim();
  if (!rest) {
    return (
      <span className="cv-msg" title={message.trim()}>
        {first || <span className="muted">(no message)</span>}
      </span>
    );
  }
  return (
    <details className="cv-msg">
      <summary title={message.trim()}>{first}</summary>
      <pre>{rest}</pre>
    </details>
  );
}

function ChangeHeader({ change }: { change: ChangeJson }) {
  return (
    <>
      <div className="cv-meta">
        <code title={change.revision}>{shortRevision(change.revision)}</code>
        <span title={change.author}>{authorName(change.author)}</span>
        <span className="pill" title="branch">
          {change.branch}
        </span>
        <Ago at={change.when} />
      </div>
      <Message message={change.message} />
    </>
  );
}

interface RowProps {
  model: GridModel;
  builders: GridBuilder[];
  change: ChangeJson;
  /** What the row shows, as a string: the row renders again only when it, its change or the columns change. */
  signature: string;
  columns: string;
}

/** One change's row; a live update re-renders only the rows whose builds changed. */
const ConsoleRow = memo(
  function ConsoleRow({ model, builders, change }: RowProps) {
    return (
      <tr>
        <th scope="row">
          <ChangeHeader change={change} />
        </th>
        {builders.map((builder) => (
          <td key={builder.name}>{buildSquares(model, change.id, builder.name)}</td>
        ))}
      </tr>
    );
  },
  (a, b) => a.change === b.change && a.signature === b.signature && a.columns === b.columns,
);

/** The table; memoised on the model so unrelated renders of the page skip every cell. */
const ConsoleTable = memo(function ConsoleTable({ model }: { model: GridModel }) {
  const grouped = model.groups.length > 1 || (model.groups.length === 1 && model.groups[0]?.tag !== null);
  const builders = model.groups.flatMap((g) => g.builders);
  return (
    <table className={`gv-table gv-console${grouped ? ' has-groups' : ''}`}>
      <caption className="sr-only">Builds per change (rows, newest first) and builder (columns)</caption>
      <thead>
        {grouped && (
          <tr className="cv-groups">
            <th scope="col" className="gv-corner" rowSpan={2}>
              Change
            </th>
            {model.groups.map((group) => (
              <th key={group.tag ?? '\0untagged'} scope="colgroup" colSpan={group.builders.length} className="cv-group" title={group.tag ?? 'no tag'}>
                <span className={group.tag ? undefined : 'muted'}>{group.tag ?? 'untagged'}</span>
              </th>
            ))}
          </tr>
        )}
        <tr className="cv-names">
          {!grouped && (
            <th scope="col" className="gv-corner">
              Change
            </th>
          )}
          {builders.map((builder) => (
            <th key={builder.name} scope="col" className="cv-builder" title={builder.name}>
              <a href={`/builders/${encodeURIComponent(builder.name)}`}>{builder.name}</a>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {model.changes.map((change) => (
          <ConsoleRow key={change.id} model={model} builders={builders} change={change} signature={model.changeSignature(change.id)} columns={model.builderKey} />
        ))}
      </tbody>
    </table>
  );
});

/** Recent changes × builders. */
export function ConsolePage() {
  const { filter, setFilter, query, model, options } = useGridView();
  const onClick = useSpaClick();
  return (
    <section>
      <h1>Console</h1>
      <FilterBar filter={filter} setFilter={setFilter} tags={options.tags} branches={options.branches} />
      {query.error && <ErrorMessage error={query.error} />}
      {!model && !query.error && <Loading what="the console" />}
      {model && model.changes.length > 0 && model.builders.length > 0 && (
        <>
          <Legend />
          <p className="gv-summary muted" aria-live="polite">
            <span>
              {model.changes.length} changes × {model.builders.length} builders
            </span>
            {query.isFetching && query.isPlaceholderData && <span>updating…</span>}
          </p>
          <div className="gv-wrap" onClick={onClick}>
            <ConsoleTable model={model} />
          </div>
        </>
      )}
      {model && (model.changes.length === 0 || model.builders.length === 0) && (
        <GridEmpty model={model} filtered={isFiltered(filter)} branch={filter.branch} onClear={() => setFilter({ changes: filter.changes })} />
      )}
    </section>
  );
}
