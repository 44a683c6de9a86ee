/**
 * A step's log: loaded in ranges (see loader.ts), drawn virtualised (only
 * the lines on screen are in the page), in ANSI colours, with line numbers
 * that are links (`#L120`), search, and the end followed while the step runs.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router';
import type { StepJson } from '../api/client.js';
import { ErrorMessage } from '../components/states.js';
import { parseAnsiLine, spanLook } from './ansi.js';
import { partCount, partOf, partRange } from './parts.js';
import { markSpans, matchesOnLine, matchNear } from './search.js';
import { useLogLoader, useLogSearch } from './use-log.js';
import './log.css';

const ROW_PX = 18;

/** `12.3 MB`. */
export function formatMegabytes(bytes: number): string {
  const mb = bytes / 1_000_000;
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** The line a `#L123` hash selects (0-based), or null. */
export function hashLine(hash: string): number | null {
  const match = /^#L(\d+)$/.exec(hash);
  return match ? Math.max(0, Number(match[1]) - 1) : null;
}

/** A log line's text: its ANSI spans, cut where search matches are marked. */
function LineText({ spans }: { spans: ReturnType<typeof markSpans> }) {
  return (
    <>
      {spans.map((span, i) => {
        const look = spanLook(span.state);
        const inner: ReactNode =
          look.className || look.style ? (
            <span className={look.className || undefined} style={look.style}>
              {span.text}
            </span>
          ) : (
            span.text
          );
        return span.mark ? (
          <mark key={i} className={`log-match${span.mark === 'current' ? ' current' : ''}`}>
            {inner}
          </mark>
        ) : (
          <span key={i}>{inner}</span>
        );
      })}
    </>
  );
}

/** The log of one step. */
export function LogViewer({ step }: { step: StepJson }) {
  const { loader, version } = useLogLoader(step);
  const location = useLocation();
  const navigate = useNavigate();
  const scrollRef = useRef<HTMLDivElement>(null);
  const running = step.state === 'running';

  const [query, setQuery] = useState('');
  const [draft, setDraft] = useState('');
  const [current, setCurrent] = useState(-1);
  const { search, searching } = useLogSearch(loader, query, version);
  const [follow, setFollow] = useState(true);
  const [part, setPart] = useState(0);
  /** A line to bring into view once it is loaded and drawn. */
  const [target, setTarget] = useState<{ line: number; seq: number } | null>(null);
  const scrolledForKey = useRef<string | null>(null);

  // The search runs shortly after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(draft);
      setCurrent(-1);
    }, 250);
    return () => clearTimeout(timer);
  }, [draft]);

  const text = loader?.text;
  const count = text?.count ?? 0;
  const parts = partCount(count);
  const { first, end } = partRange(part, count);
  const selected = hashLine(location.hash);

  const virtualizer = useVirtualizer({
    count: end - first,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
  });

  function showLine(line: number) {
    setPart(partOf(line));
    setTarget({ line, seq: (target?.seq ?? 0) + 1 });
  }

  // Bring the target line into view once it is loaded and its part drawn.
  useLayoutEffect(() => {
    if (!target || target.line >= count) return;
    if (partOf(target.line) !== part) return;
    virtualizer.scrollToIndex(target.line - first, { align: 'center' });
    setTarget(null);
  }, [target, count, part, first, virtualizer]);

  // `#L123` in the URL: scroll there once the line has arrived (once per navigation).
  useEffect(() => {
    if (selected === null || scrolledForKey.current === location.key) return;
    if (selected < count) {
      scrolledForKey.current = location.key;
      setFollow(false);
      showLine(selected);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, count, location.key]);

  // Following a running step: stay at the end as lines arrive.
  const following = running && follow && selected === null;
  useLayoutEffect(() => {
    if (!following || count === 0) return;
    const last = partCount(count) - 1;
    if (part !== last) setPart(last);
    else virtualizer.scrollToIndex(end - first - 1, { align: 'end' });
  }, [following, version, count, part, end, first, virtualizer]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el || !running) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_PX * 2;
    if (atBottom !== follow) setFollow(atBottom);
  }

  function selectLine(line: number) {
    // Selecting a line by hand is not a request to scroll.
    scrolledForKey.current = '(pending)';
    setFollow(false);
    void navigate({ pathname: location.pathname, search: location.search, hash: `L${line + 1}` });
  }
  // After our own navigation, the new key is known: mark it scrolled.
  useEffect(() => {
    if (scrolledForKey.current === '(pending)') scrolledForKey.current = location.key;
  }, [location.key]);

  const matches = search?.matches ?? [];
  function move(delta: 1 | -1) {
    if (matches.length === 0) return;
    let next: number;
    if (current < 0) {
      const top = first + (virtualizer.getVirtualItems()[0]?.index ?? 0);
      next = matchNear(matches, top);
      if (delta < 0) next = (next - 1 + matches.length) % matches.length;
    } else next = (current + delta + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    showLine(matches[next]!.line);
  }
  const moveWhenFound = useRef<1 | -1 | null>(null);
  useEffect(() => {
    if (moveWhenFound.current === null || matches.length === 0) return;
    const delta = moveWhenFound.current;
    moveWhenFound.current = null;
    move(delta);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [matches.length, search]);
  function onSearchKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    if (draft !== query) {
      // Enter before the pause: search now, then move to the first match when found.
      setQuery(draft);
      setCurrent(-1);
      moveWhenFound.current = event.shiftKey ? -1 : 1;
      return;
    }
    move(event.shiftKey ? -1 : 1);
  }

  const progress = loader?.progress();
  const items = virtualizer.getVirtualItems();
  const rows: ReactNode[] = [];
  if (text && items.length > 0) {
    let state = text.stateAt(first + items[0]!.index);
    for (const item of items) {
      const i = first + item.index;
      const line = text.line(i);
      const parsed = parseAnsiLine(line, state);
      state = parsed.end;
      const marks = search ? matchesOnLine(matches, i).map(({ match, index }) => ({ start: match.start, end: match.end, current: index === current })) : [];
      const classes = ['log-row'];
      if (i === selected) classes.push('selected');
      if (line.startsWith('[shepherd]')) classes.push('log-shepherd');
      rows.push(
        <div key={i} className={classes.join(' ')} style={{ transform: `translateY(${item.start}px)` }}>
          <a
            className="log-ln"
            href={`#L${i + 1}`}
            style={{ width: `${String(count).length + 2}ch` }}
            onClick={(event) => {
              if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
              event.preventDefault();
              selectLine(i);
            }}
          >
            {i + 1}
          </a>
          <span className="log-text">
            <LineText spans={markSpans(parsed.spans, marks)} />
          </span>
        </div>,
      );
    }
  }

  const searchCount =
    query.trim() === ''
      ? ''
      : matches.length === 0
        ? searching
          ? 'searching…'
          : 'no matches'
        : `${current >= 0 ? `${current + 1} of ` : ''}${matches.length}${search?.capped ? '+' : ''}${current >= 0 ? '' : matches.length === 1 ? ' match' : ' matches'}${searching ? '…' : ''}`;

  // Progress is worth showing for a real backlog, not for each small live append.
  const loading = progress && !progress.complete && progress.known - progress.loaded > 256 * 1024;

  return (
    <div className="log">
      <div className="log-toolbar">
        <div className="log-search" role="search">
          <label>
            <span className="sr-only">Search the log</span>
            <input
              type="search"
              placeholder="Search the log"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={onSearchKey}
              aria-describedby={`log-count-${step.id}`}
            />
          </label>
          <button type="button" onClick={() => move(-1)} disabled={matches.length === 0} title="Previous match (Shift+Enter)" aria-label="Previous match">
            ↑
          </button>
          <button type="button" onClick={() => move(1)} disabled={matches.length === 0} title="Next match (Enter)" aria-label="Next match">
            ↓
          </button>
          <span className="log-count" id={`log-count-${step.id}`} aria-live="polite">
            {searchCount}
          </span>
        </div>
        {running && (
          <label title="Keep the end of the log in view as output arrives">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
          </label>
        )}
        {loading && progress && (
          <span className="muted" aria-live="polite">
            loading {formatMegabytes(progress.loaded)} / {formatMegabytes(progress.known)}
          </span>
        )}
        <span className="log-links">
          <span className="muted">{count.toLocaleString()} lines</span>
          <button type="button" onClick={() => { setFollow(false); showLine(0); }} disabled={count === 0}>
            top
          </button>
          <button type="button" onClick={() => showLine(count - 1)} disabled={count === 0}>
            end
          </button>
          <a href={step.log.url} target="_blank" rel="noreferrer">
            raw
          </a>
          <a href={`${step.log.url}?download=1`} download>
            download
          </a>
        </span>
      </div>
      {step.log.truncated && (
        <p className="log-notice warn" role="note">
          ⚠ This log was truncated by the master (its size limit, <code>max_log_size</code>): the output after that was discarded.
        </p>
      )}
      {parts > 1 && (
        <p className="log-notice">
          A long log is shown in parts: lines {(first + 1).toLocaleString()}–{end.toLocaleString()} of {count.toLocaleString()}.{' '}
          <button type="button" disabled={part === 0} onClick={() => { setFollow(false); showLine(first - 1); }}>
            ‹ previous part
          </button>{' '}
          <button type="button" disabled={part >= parts - 1} onClick={() => { setFollow(false); showLine(end); }}>
            next part ›
          </button>
        </p>
      )}
      {progress?.error ? <ErrorMessage error={progress.error} /> : null}
      <div
        className="log-scroll"
        ref={scrollRef}
        onScroll={onScroll}
        tabIndex={0}
        aria-label={`Log of step ${step.name}`}
        // Short logs take their own height; long ones 70% of the window.
        style={{ height: `min(70vh, ${Math.max(count, 4) * ROW_PX + 24}px)` }}
      >
        {count === 0 ? (
          <p className="log-empty">
            {step.state === 'pending' ? 'The step has not started.' : progress && !progress.complete && !running ? 'Loading…' : running ? 'No output yet.' : 'No output.'}
          </p>
        ) : (
          <div className="log-lines" style={{ height: virtualizer.getTotalSize() }}>
            {rows}
          </div>
        )}
      </div>
    </div>
  );
}
