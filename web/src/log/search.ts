/**
 * Search in a log: every match of a text (case-insensitive) in the lines as
 * shown (escapes removed), found a slice of lines at a time so a search in
 * a 65 MB log never blocks the page, and continued as new lines arrive.
 */
import type { AnsiSpan } from './ansi.js';
import { plainText } from './ansi.js';

/** One match: line index (0-based) and the columns [start, end) in the shown text. */
export interface Match {
  line: number;
  start: number;
  end: number;
}

/** Stop collecting after this many matches (the count then reads "10000+"). */
export const MAX_MATCHES = 10_000;

/** An incremental search for one query. */
export class LogSearch {
  readonly matches: Match[] = [];
  /** Lines searched so far. */
  scanned = 0;
  private needle: string;

  constructor(
    readonly query: string,
    private readonly maxMatches = MAX_MATCHES,
  ) {
    this.needle = query.toLowerCase();
  }

  /** Whether the match list stopped growing at its cap. */
  get capped(): boolean {
    return this.matches.length >= this.maxMatches;
  }

  /** Searches up to `budget` more of `lines`; returns true when all of them are searched. */
  step(lines: readonly string[], budget: number): boolean {
    const needle = this.needle;
    if (needle === '' || this.capped) {
      this.scanned = lines.length;
      return true;
    }
    const until = Math.min(lines.length, this.scanned + budget);
    for (let i = this.scanned; i < until; i++) {
      const text = plainText(lines[i]!).toLowerCase();
      let at = text.indexOf(needle);
      while (at >= 0) {
        this.matches.push({ line: i, start: at, end: at + needle.length });
        if (this.matches.length >= this.maxMatches) {
          this.scanned = lines.length;
          return true;
        }
        at = text.indexOf(needle, at + needle.length);
      }
    }
    this.scanned = until;
    return until >= lines.length;
  }
}

/** The index of the first match at or after line `line` (wrapping to 0). */
export function matchNear(matches: readonly Match[], line: number): number {
  let lo = 0;
  let hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches[mid]!.line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo < matches.length ? lo : 0;
}

/** The matches on one line (matches are sorted by line). */
export function matchesOnLine(matches: readonly Match[], line: number): { match: Match; index: number }[] {
  const out: { match: Match; index: number }[] = [];
  for (let i = matchNear(matches, line); i < matches.length && matches[i]!.line === line; i++) out.push({ match: matches[i]!, index: i });
  return out;
}

/** A span, possibly marked as (the current) match. */
export interface MarkedSpan extends AnsiSpan {
  mark: 'match' | 'current' | null;
}

/** Cuts a line's spans at the marks' edges so matches can be highlighted. */
export function markSpans(spans: readonly AnsiSpan[], marks: readonly { start: number; end: number; current: boolean }[]): MarkedSpan[] {
  if (marks.length === 0) return spans.map((span) => ({ ...span, mark: null }));
  const out: MarkedSpan[] = [];
  let offset = 0;
  for (const span of spans) {
    const spanEnd = offset + span.text.length;
    let at = offset;
    while (at < spanEnd) {
      const inside = marks.find((m) => m.start <= at && at < m.end);
      let until = spanEnd;
      if (inside) until = Math.min(spanEnd, inside.end);
      else for (const m of marks) if (m.start > at && m.start < until) until = m.start;
      out.push({ text: span.text.slice(at - offset, until - offset), state: span.state, mark: inside ? (inside.current ? 'current' : 'match') : null });
      at = until;
    }
    offset = spanEnd;
  }
  return out;
}
