/**
 * What a compact list of builds shows besides the build itself: short
 * revisions, who is in each build's blamelist (from the recent changes, one
 * query for the whole table) and the `?before=` cursor of its pages.
 */
import type { ChangeWithBuildsJson } from '../api/client.js';

/** The first 10 characters of a revision, as the CLI prints it. */
export function shortRevision(revision: string | null | undefined): string {
  return revision ? revision.slice(0, 10) : '';
}

/** `Jane Doe <jane@example.org>` → `Jane Doe`; a bare address stays as it is. */
export function authorName(author: string): string {
  const name = author.replace(/\s*<[^>]*>\s*$/, '').trim();
  return name || author.trim();
}

/** Each build's blamelist authors (distinct names, oldest change first), from changes listed newest first. */
export function blameAuthorsByBuild(changes: readonly ChangeWithBuildsJson[]): Map<number, string[]> {
  const authors = new Map<number, string[]>();
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i]!;
    const name = authorName(change.author);
    for (const build of change.builds) {
      const names = authors.get(build.id) ?? [];
      if (!names.includes(name)) names.push(name);
      authors.set(build.id, names);
    }
  }
  return authors;
}

/** The `before` cursor from the query string: a positive integer, else undefined (the newest page). */
export function parseCursor(text: string | null): number | undefined {
  if (!text || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value > 0 && Number.isSafeInteger(value) ? value : undefined;
}
