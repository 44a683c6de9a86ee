/**
 * Plain-text tables for people, like `docker ps` or `kubectl get`: an
 * upper-case header, columns padded with two spaces, no trailing blanks.
 */

/** Formats rows under headers; every line ends with a newline. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => (cells[column] ?? '').padEnd(width))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].map((l) => `${l}\n`).join('');
}
