/**
 * Builders: every builder with its last build, filtered by text and tag.
 * The filters live in the query string (`?q=&tag=`), so a filtered list can
 * be shared and the back button restores it.
 */
import { Link, useSearchParams } from 'react-router';
import { useBuilders } from '../api/queries.js';
import { ResultBadge } from '../components/result.js';
import { SelectorPills } from '../components/selector-pills.js';
import { ErrorMessage, Loading } from '../components/states.js';
import { Ago } from '../components/time.js';
import { allTags, filterBuilders } from './builder-filter.js';
import '../components/farm-views.css';

/** The builders page. */
export function BuildersPage() {
  const builders = useBuilders();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';

  function setFilter(key: 'q' | 'tag', value: string, replace: boolean) {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    // Typing replaces the history entry; picking a tag adds one, so Back undoes it.
    setParams(next, { replace });
  }

  const all = builders.data ?? [];
  const tags = allTags(all);
  const shown = filterBuilders(all, { q, tag });
  return (
    <section aria-labelledby="builders-title">
      <h1 id="builders-title">Builders</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Filter{' '}
          <input type="search" value={q} placeholder="name or tag" onChange={(e) => setFilter('q', e.target.value, true)} />
        </label>
        <label>
          Tag{' '}
          <select value={tag} onChange={(e) => setFilter('tag', e.target.value, false)}>
            <option value="">any</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
            {tag && !tags.includes(tag) && <option value={tag}>{tag}</option>}
          </select>
        </label>
        {builders.data && (
          <span className="muted" role="status">
            {shown.length === all.length ? `${all.length} builders` : `${shown.length} of ${all.length} builders`}
          </span>
        )}
      </form>
      {builders.isPending && <Loading what="builders" />}
      {builders.isError && <ErrorMessage error={builders.error} />}
      {builders.data && shown.length === 0 && <p className="muted">No builder matches these filters.</p>}
      {shown.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Builder</th>
                <th scope="col" className="hide-narrow">Tags</th>
                <th scope="col">Last build</th>
                <th scope="col" className="hide-narrow">Workers</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((builder) => (
                <tr key={builder.name}>
                  <td>
                    <Link to={`/builders/${encodeURIComponent(builder.name)}`}>{builder.name}</Link>
                  </td>
                  <td className="hide-narrow">
                    <span className="pills">
                      {builder.tags.map((t) => (
                        <button
                          key={t}
                          type="button"
                          className="pill"
                          aria-pressed={t === tag}
                          title={t === tag ? 'show every tag' : `only builders tagged ${t}`}
                          onClick={() => setFilter('tag', t === tag ? '' : t, false)}
                        >
                          {t}
                        </button>
                      ))}
                    </span>
                  </td>
                  <td className="nowrap">
                    {builder.last_build ? (
                      <>
                        <ResultBadge result={builder.last_build.result} state={builder.last_build.state} />{' '}
                        <Link to={`/builds/${builder.last_build.id}`}>#{builder.last_build.number}</Link>{' '}
                        <span className="muted">
                          <Ago at={builder.last_build.finished_at ?? builder.last_build.started_at} />
                        </span>
                      </>
                    ) : (
                      <span className="muted">no builds yet</span>
                    )}
                  </td>
                  <td className="hide-narrow">
                    <SelectorPills selector={builder.workers} />
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
