/**
 * The builders list's filters (`?q=&tag=`): a text that matches a builder's
 * name or one of its tags, and one tag that must be present.
 */
import type { BuilderJson } from '../api/client.js';

/** The filters as the query string holds them (empty: no filter). */
export interface BuilderFilter {
  q: string;
  tag: string;
}

/** The builders that pass both filters, in their configured order. */
export function filterBuilders<B extends Pick<BuilderJson, 'name' | 'tags'>>(builders: readonly B[], filter: BuilderFilter): B[] {
  const text = filter.q.trim().toLowerCase();
  return builders.filter(
    (builder) =>
      (filter.tag === '' || builder.tags.includes(filter.tag)) &&
      (text === '' || builder.name.toLowerCase().includes(text) || builder.tags.some((tag) => tag.toLowerCase().includes(text))),
  );
}

/** Every tag in use, sorted, once each. */
export function allTags(builders: readonly Pick<BuilderJson, 'tags'>[]): string[] {
  return [...new Set(builders.flatMap((builder) => builder.tags))].sort((a, b) => a.localeCompare(b));
}
