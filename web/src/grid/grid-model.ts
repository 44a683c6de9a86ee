/**
 * The grid and console views' data, as pure functions: `GET /grid` turned
 * into ordered builders and changes plus a lookup of the builds in each
 * (change, builder) cell, and the views' filters read from and written to the
 * query string. Everything here runs once per response (under useMemo), so
 * rendering 200 builders × 50 changes is a map lookup per cell.
 */
import type { ChangeJson, GridJson } from '../../../src/master/api/schemas.js';

/** One build in a cell. */
export type GridBuild = GridJson['cells'][number];
/** A builder row (grid) or column (console). */
export type GridBuilder = GridJson['builders'][number];

/** The filters both views share; all optional, the URL holds only those set. */
export interface GridViewFilter {
  builder?: string;
  tag?: string;
  branch?: string;
  changes?: number;
}

/** The change counts offered in the filter bar (the API allows 1 to 200; it defaults to 50). */
export const CHANGE_COUNTS = [25, 50, 100] as const;
/** The API's default number of changes. */
export const DEFAULT_CHANGES = 50;

/** Builders that share their first tag, for the console's grouped header. */
export interface BuilderGroup {
  /** The tag, or null for builders without one. */
  tag: string | null;
  builders: GridBuilder[];
}

/** The grid ready to render. */
export interface GridModel {
  builders: GridBuilder[];
  /** Newest first, as the API sends them. */
  changes: ChangeJson[];
  /** The builds of a cell, newest first; an empty array (shared) when none. */
  cell(changeId: number, builder: string): readonly GridBuild[];
  /** How many of the shown changes a build appears under (more than 1: a collapsed build). */
  span(buildId: number): number;
  /** Whether `changeId` is the newest shown change the build covers (the revision it built). */
  isTip(buildId: number, changeId: number): boolean;
  /** The builder columns grouped by first tag, in order of appearance, untagged last. */
  groups: BuilderGroup[];
  /** Every cell holding a build, for the summary line. */
  cellCount: number;
  /** Changes whenever anything a builder's grid row shows changes: rows memoise on it. */
  builderSignature(builder: string): string;
  /** Changes whenever anything a change's console row shows changes. */
  changeSignature(changeId: number): string;
  /** The shown change ids (grid columns) and builder names (console columns) as one string each. */
  changeKey: string;
  builderKey: string;
}

const NONE: readonly GridBuild[] = Object.freeze([]);

/** Whether a builder passes the name (case-insensitive substring) and tag filters. */
export function builderMatches(builder: GridBuilder, filter: GridViewFilter): boolean {
  if (filter.tag && !builder.tags.includes(filter.tag)) return false;
  if (filter.builder && !builder.name.toLowerCase().includes(filter.builder.toLowerCase())) return false;
  return true;
}

/**
 * Builds the lookup once. The filters are applied again here, on top of the
 * server's, so the previous response shown while a new one loads already
 * matches what the filter bar says.
 */
export function buildGridModel(grid: GridJson, filter: GridViewFilter = {}): GridModel {
  const builders = grid.builders.filter((b) => builderMatches(b, filter));
  const changes = filter.branch ? grid.changes.filter((c) => c.branch === filter.branch) : grid.changes.slice();
  const builderNames = new Set(builders.map((b) => b.name));
  const changeOrder = new Map(changes.map((c, i) => [c.id, i]));

  const cells = new Map<number, Map<string, GridBuild[]>>();
  const tips = new Map<number, { change: number; order: number }>();
  const spans = new Map<number, number>();
  let cellCount = 0;
  for (const build of grid.cells) {
    const order = changeOrder.get(build.change_id);
    if (order === undefined || !builderNames.has(build.builder)) continue;
    let row = cells.get(build.change_id);
    if (!row) cells.set(build.change_id, (row = new Map()));
    let list = row.get(build.builder);
    if (!list) {
      row.set(build.builder, (list = []));
      cellCount += 1;
    }
    if (list.some((b) => b.build_id === build.build_id)) continue;
    list.push(build);
    spans.set(build.build_id, (spans.get(build.build_id) ?? 0) + 1);
    const tip = tips.get(build.build_id);
    if (!tip || order < tip.order) tips.set(build.build_id, { change: build.change_id, order });
  }
  // Newest build first, whatever order the cells arrived in (ids grow with time).
  for (const row of cells.values()) for (const list of row.values()) if (list.length > 1) list.sort((a, b) => b.build_id - a.build_id);

  // One pass over the shown cells gives each row a string that changes when anything in it does,
  // so a live update re-renders the rows it touched, not 10,000 cells.
  const byBuilder = new Map<string, string>();
  const byChange = new Map<number, string>();
  for (const [changeId, row] of cells) {
    let changeSig = '';
    for (const [builder, list] of row) {
      let sig = '';
      for (const b of list) sig += `${b.build_id}${b.state === 'running' ? 'r' : ''}${b.result ?? ''}${tips.get(b.build_id)?.change === changeId ? '' : '~'} `;
      changeSig += `${builder}=${sig};`;
      byBuilder.set(builder, `${byBuilder.get(builder) ?? ''}${changeId}=${sig};`);
    }
    byChange.set(changeId, changeSig);
  }

  return {
    builders,
    changes,
    builderSignature: (builder) => byBuilder.get(builder) ?? '',
    changeSignature: (changeId) => byChange.get(changeId) ?? '',
    changeKey: changes.map((c) => c.id).join(','),
    builderKey: builders.map((b) => b.name).join('\n'),
    cell: (changeId, builder) => cells.get(changeId)?.get(builder) ?? NONE,
    span: (buildId) => spans.get(buildId) ?? 0,
    isTip: (buildId, changeId) => tips.get(buildId)?.change === changeId,
    groups: groupByTag(builders),
    cellCount,
  };
}

/** Groups builders by their first tag, groups in order of first appearance, untagged last. */
export function groupByTag(builders: readonly GridBuilder[]): BuilderGroup[] {
  const groups = new Map<string | null, GridBuilder[]>();
  for (const builder of builders) {
    const tag = builder.tags[0] ?? null;
    let list = groups.get(tag);
    if (!list) groups.set(tag, (list = []));
    list.push(builder);
  }
  const untagged = groups.get(null);
  groups.delete(null);
  const result: BuilderGroup[] = [...groups].map(([tag, list]) => ({ tag, builders: list }));
  if (untagged) result.push({ tag: null, builders: untagged });
  return result;
}

/** Every tag of these builders, sorted. */
export function tagsOf(builders: readonly { tags: readonly string[] }[]): string[] {
  return [...new Set(builders.flatMap((b) => b.tags))].sort((a, b) => a.localeCompare(b));
}

/** Every branch of these changes, sorted. */
export function branchesOf(changes: readonly { branch: string }[]): string[] {
  return [...new Set(changes.map((c) => c.branch))].sort((a, b) => a.localeCompare(b));
}

/** A revision as people quote it: a git hash's first 7 characters, anything else as is. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{12,}$/i.test(revision) ? revision.slice(0, 7) : revision;
}

/** A commit message's first line. */
export function firstLine(message: string): string {
  const line = message.trim().split('\n', 1)[0] ?? '';
  return line.trim();
}

/** The name part of `Jane Doe <jane@example.com>` (or the address's local part if no name). */
export function authorName(author: string): string {
  const match = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(author);
  if (!match) return author.trim();
  return match[1] || (match[2] ?? '').split('@')[0] || author.trim();
}

/** Initials for a narrow header: `Jane Doe` → `JD`, `jdoe` → `jd`. */
export function authorInitials(author: string): string {
  const words = authorName(author).split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return '?';
  if (words.length === 1) return (words[0] ?? '').slice(0, 2);
  return words.slice(0, 3).map((w) => (w[0] ?? '').toUpperCase()).join('');
}

/** The filters in a query string; unknown or malformed values are ignored. */
export function readFilter(params: URLSearchParams): GridViewFilter {
  const filter: GridViewFilter = {};
  const builder = params.get('builder')?.trim();
  if (builder) filter.builder = builder;
  const tag = params.get('tag')?.trim();
  if (tag) filter.tag = tag;
  const branch = params.get('branch')?.trim();
  if (branch) filter.branch = branch;
  const changes = Number(params.get('changes'));
  if (Number.isInteger(changes) && changes >= 1 && changes <= 200 && changes !== DEFAULT_CHANGES) filter.changes = changes;
  return filter;
}

/** The query string of these filters (only those set; the default count left out), in a stable order. */
export function writeFilter(filter: GridViewFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.builder) params.set('builder', filter.builder);
  if (filter.tag) params.set('tag', filter.tag);
  if (filter.branch) params.set('branch', filter.branch);
  if (filter.changes !== undefined && filter.changes !== DEFAULT_CHANGES) params.set('changes', String(filter.changes));
  return params;
}

/** Whether any filter narrows the view (the count does not). */
export function isFiltered(filter: GridViewFilter): boolean {
  return Boolean(filter.builder || filter.tag || filter.branch);
}
