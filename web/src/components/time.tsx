/**
 * Times and durations as people read them: "3 min ago" with the exact time
 * on hover, "1 h 4 min". Relative times refresh once a minute.
 */
import { useEffect, useState } from 'react';

/** `1.2 s`, `4 min 3 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAgo(at: number, now: number): string {
  const ms = now - at;
  if (ms < 45_000) return 'just now';
  return `${formatDuration(ms).replace(/ \d+ (s|min|h)$/, '')} ago`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A relative time with the exact one as a tooltip. */
export function Ago({ at }: { at: number | null | undefined }) {
  const now = useNow(60_000);
  if (at === null || at === undefined) return <span className="muted">never</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={new Date(at).toLocaleString()}>
      {formatAgo(at, now)}
    </time>
  );
}

/** How long something took, or has taken so far (ticking each second while running). */
export function Elapsed({ start, end }: { start: number | null | undefined; end: number | null | undefined }) {
  const now = useNow(end ? 3_600_000 : 1000);
  if (!start) return null;
  return <span className="duration">{formatDuration((end ?? now) - start)}</span>;
}
