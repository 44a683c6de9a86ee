/**
 * Id lists for `IN (...)`: each id is one bound parameter, and both databases
 * cap parameters per statement (SQLite 32766, PostgreSQL 65535). Lists are
 * cut into chunks well below either cap, so a real list is one query and an
 * enormous one still works.
 */

/** Ids per `IN (...)` list or per multi-row insert batch's worth of parameters. */
export const MAX_PARAMETERS = 10_000;

/** The distinct ids in ascending order: the order the domain reports them in. */
export function sortedIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** Splits `items` into consecutive slices of at most `size` (one statement each). */
export function chunked<T>(items: readonly T[], size = MAX_PARAMETERS): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
