/**
 * What the grid and console share around their tables: the filters, kept in
 * the query string (shareable, and the back button undoes them), the grid
 * query, and the filter bar itself.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useGrid } from '../api/queries.js';
import {
  branchesOf,
  buildGridModel,
  CHANGE_COUNTS,
  DEFAULT_CHANGES,
  isFiltered,
  readFilter,
  tagsOf,
  writeFilter,
  type GridViewFilter,
} from './grid-model.js';

/** The filters from the URL, the grid for them, and the tags and branches to offer. */
export function useGridView() {
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const filter = useMemo(() => readFilter(new URLSearchParams(search)), [search]);
  const query = useGrid({ changes: filter.changes, builder: filter.builder, tag: filter.tag, branch: filter.branch });
  const { builder, tag, branch } = filter;
  const model = useMemo(() => (query.data ? buildGridModel(query.data, { builder, tag, branch }) : null), [query.data, builder, tag, branch]);

  // A filtered response only names the tags and branches it kept: remember every one seen so
  // the selects still offer them after narrowing.
  const seen = useRef({ tags: new Set<string>(), branches: new Set<string>() });
  const options = useMemo(() => {
    if (query.data) {
      for (const t of tagsOf(query.data.builders)) seen.current.tags.add(t);
      for (const b of branchesOf(query.data.changes)) seen.current.branches.add(b);
    }
    const sorted = (set: Set<string>, current?: string) => [...new Set([...set, ...(current ? [current] : [])])].sort((a, b) => a.localeCompare(b));
    return { tags: sorted(seen.current.tags, tag), branches: sorted(seen.current.branches, branch) };
  }, [query.data, tag, branch]);

  /** Changes the filters; `replace` for refinements that should not each be a history entry. */
  function setFilter(next: GridViewFilter, replace = false) {
    setParams(writeFilter(next), { replace });
  }
  return { filter, setFilter, query, model, options };
}

/** Commits the builder text after a pause in typing, and follows the URL when it changes (back button). */
function useDebouncedText(value: string, commit: (text: string) => void, delayMs = 300) {
  const [text, setText] = useState(value);
  const latestCommit = useRef(commit);
  latestCommit.current = commit;
  const committed = useRef(value);
  useEffect(() => {
    // Our own commit coming back must not overwrite what was typed since.
    if (value !== committed.current) setText(value);
    committed.current = value;
  }, [value]);
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => {
      committed.current = text.trim();
      latestCommit.current(text.trim());
    }, delayMs);
    return () => clearTimeout(timer);
  }, [text, value, delayMs]);
  return [text, setText] as const;
}

/** The filter bar: builder name, tag, branch and how many changes. */
export function FilterBar({
  filter,
  setFilter,
  tags,
  branches,
}: {
  filter: GridViewFilter;
  setFilter: (next: GridViewFilter, replace?: boolean) => void;
  tags: string[];
  branches: string[];
}) {
  // Typing refines the current entry; the first keystroke into an empty box makes a new one.
  const [text, setText] = useDebouncedText(filter.builder ?? '', (builder) =>
    setFilter({ ...filter, builder: builder || undefined }, Boolean(filter.builder) && Boolean(builder)),
  );
  const count = filter.changes ?? DEFAULT_CHANGES;
  const counts: number[] = CHANGE_COUNTS.includes(count as (typeof CHANGE_COUNTS)[number]) ? [...CHANGE_COUNTS] : [...CHANGE_COUNTS, count].sort((a, b) => a - b);
  return (
    <form className="filters gv-filters" role="search" aria-label="Filter builders and changes" onSubmit={(e) => e.preventDefault()}>
      <label>
        Builder{' '}
        <input type="search" value={text} placeholder="name contains…" size={14} onChange={(e) => setText(e.target.value)} />
      </label>
      <label>
        Tag{' '}
        <select value={filter.tag ?? ''} onChange={(e) => setFilter({ ...filter, tag: e.target.value || undefined })}>
          <option value="">all tags</option>
          {tags.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Branch{' '}
        <select value={filter.branch ?? ''} onChange={(e) => setFilter({ ...filter, branch: e.target.value || undefined })}>
          <option value="">all branches</option>
          {branches.map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
      </label>
      <label>
        Changes{' '}
        <select value={count} onChange={(e) => setFilter({ ...filter, changes: Number(e.target.value) })}>
          {counts.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      {isFiltered(filter) && (
        <button type="button" onClick={() => setFilter({ changes: filter.changes })}>
          Clear filters
        </button>
      )}
    </form>
  );
}
