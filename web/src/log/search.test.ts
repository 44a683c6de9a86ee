import { describe, expect, it } from 'vitest';
import { parseAnsiLine } from './ansi.js';
import { LogSearch, markSpans, matchesOnLine, matchNear } from './search.js';

describe('LogSearch', () => {
  const lines = ['Error: one', 'fine', 'error again and ERROR', '\x1b[31merr\x1b[0mor in colour'];

  it('finds every match, case-insensitively, in the text as shown', () => {
    const search = new LogSearch('error');
    expect(search.step(lines, 100)).toBe(true);
    expect(search.matches).toEqual([
      { line: 0, start: 0, end: 5 },
      { line: 2, start: 0, end: 5 },
      { line: 2, start: 16, end: 21 },
      { line: 3, start: 0, end: 5 },
    ]);
  });

  it('searches a slice at a time and continues over lines appended later', () => {
    const search = new LogSearch('error');
    const growing = lines.slice(0, 3);
    expect(search.step(growing, 2)).toBe(false);
    expect(search.matches).toHaveLength(1);
    expect(search.step(growing, 2)).toBe(true);
    expect(search.matches).toHaveLength(3);
    growing.push(lines[3]!);
    expect(search.step(growing, 2)).toBe(true);
    expect(search.matches).toHaveLength(4);
    expect(search.scanned).toBe(4);
  });

  it('stops at the cap', () => {
    const search = new LogSearch('a', 3);
    expect(search.step(['aaaa', 'a'], 10)).toBe(true);
    expect(search.matches).toHaveLength(3);
    expect(search.capped).toBe(true);
  });

  it('finds nothing for an empty query', () => {
    const search = new LogSearch('');
    expect(search.step(lines, 1)).toBe(true);
    expect(search.matches).toEqual([]);
  });
});

describe('match navigation', () => {
  const matches = [
    { line: 2, start: 0, end: 1 },
    { line: 2, start: 4, end: 5 },
    { line: 9, start: 0, end: 1 },
  ];
  it('finds the first match at or after a line, wrapping around', () => {
    expect(matchNear(matches, 0)).toBe(0);
    expect(matchNear(matches, 3)).toBe(2);
    expect(matchNear(matches, 10)).toBe(0);
    expect(matchesOnLine(matches, 2).map((m) => m.index)).toEqual([0, 1]);
    expect(matchesOnLine(matches, 5)).toEqual([]);
  });
});

describe('markSpans', () => {
  it('cuts spans at the edges of matches, across colour changes', () => {
    const { spans } = parseAnsiLine('ab\x1b[31mcdef\x1b[0mgh');
    const marked = markSpans(spans, [
      { start: 1, end: 3, current: true },
      { start: 5, end: 7, current: false },
    ]);
    expect(marked.map((s) => [s.text, s.mark, s.state.fg])).toEqual([
      ['a', null, null],
      ['b', 'current', null],
      ['c', 'current', 1],
      ['de', null, 1],
      ['f', 'match', 1],
      ['g', 'match', null],
      ['h', null, null],
    ]);
  });
});
