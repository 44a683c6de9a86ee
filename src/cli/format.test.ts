import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration, formatTimestamp, messageSubject, personName, shortRevision } from './format.js';

describe('formats', () => {
  it('formats durations', () => {
    expect(formatDuration(420)).toBe('0.4s');
    expect(formatDuration(9_950)).toBe('9.9s');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m 05s');
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe('2h 03m');
    expect(formatDuration(-1)).toBe('-');
  });

  it('formats times and ages', () => {
    const at = new Date(2024, 4, 1, 14, 3, 9).getTime();
    expect(formatTimestamp(at)).toBe('2024-05-01 14:03:09');
    expect(formatAgo(at, at + 2000)).toBe('just now');
    expect(formatAgo(at, at + 42_000)).toBe('42s ago');
    expect(formatAgo(at, at + 5 * 60_000)).toBe('5m ago');
    expect(formatAgo(at, at + 3 * 86_400_000)).toBe('3d ago');
  });

  it('shortens revisions, messages and people', () => {
    expect(shortRevision('3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b')).toBe('3f2a9c1d');
    expect(shortRevision('v1.2.3')).toBe('v1.2.3');
    expect(shortRevision('')).toBe('');
    expect(shortRevision(null)).toBe('');
    expect(messageSubject('\n  Fix the frobnicator  \n\nLong body')).toBe('Fix the frobnicator');
    expect(messageSubject('x'.repeat(70), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(messageSubject('')).toBe('');
    expect(personName('Ada Lovelace <ada@example.org>')).toBe('Ada Lovelace');
    expect(personName('<ada@example.org>')).toBe('ada@example.org');
    expect(personName('ada')).toBe('ada');
  });
});
