/**
 * Times, durations, revisions and commit messages as the CLI shows them to people.
 */

/** `0.4s`, `12s`, `3m 05s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** A local date and time, `2024-05-01 14:03:09`. */
export function formatTimestamp(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

/** How long ago, `just now`, `42s ago`, `3m ago`, `5h ago`, `2d ago`. */
export function formatAgo(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** A commit id shortened as git does (`3f2a9c1d`); anything that is not a long hex id (a tag, '') stays as it is. */
export function shortRevision(revision: string | null | undefined): string {
  if (!revision) return '';
  return /^[0-9a-f]{12,}$/i.test(revision) ? revision.slice(0, 8) : revision;
}

/** A commit message's subject: its first non-blank line, cut to `max` characters with an ellipsis. */
export function messageSubject(message: string, max = 60): string {
  const line = message.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** "Ada Lovelace <ada@example.org>" as a table shows it: the name (the address when there is no name). */
export function personName(person: string): string {
  const match = /^(.*?)\s*<([^>]*)>\s*$/.exec(person);
  if (!match) return person.trim();
  return match[1]!.trim() || match[2]!.trim();
}
