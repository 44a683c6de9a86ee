/**
 * Very long logs are shown in parts: browsers cannot make a scrolling box
 * taller than about 17 million pixels (Firefox; 33 million in Chromium), so
 * a part holds at most 500,000 lines (9 million pixels at 18 px a line) and
 * the viewer moves between parts when asked to show a line in another one.
 */

/** Lines per part. */
export const PART_LINES = 500_000;

/** How many parts `count` lines make (at least one). */
export function partCount(count: number, size = PART_LINES): number {
  return Math.max(1, Math.ceil(count / size));
}

/** The part holding line `line` (0-based). */
export function partOf(line: number, size = PART_LINES): number {
  return Math.floor(Math.max(0, line) / size);
}

/** The lines [first, end) of part `part` of a log of `count` lines. */
export function partRange(part: number, count: number, size = PART_LINES): { first: number; end: number } {
  const first = Math.min(part * size, Math.max(0, count - 1 - ((count - 1) % size)));
  return { first: Math.max(0, first), end: Math.min(count, first + size) };
}
