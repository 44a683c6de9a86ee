import { describe, expect, it } from 'vitest';
import type { ChangeJson, GridJson } from '../../../src/master/api/schemas.js';
import {
  authorInitials,
  authorName,
  branchesOf,
  buildGridModel,
  firstLine,
  groupByTag,
  readFilter,
  shortRevision,
  tagsOf,
  writeFilter,
  type GridBuild,
} from './grid-model.js';

function change(id: number, extra: Partial<ChangeJson> = {}): ChangeJson {
  return {
    id,
    source: 'hello-c',
    repository: 'file:///repo',
    branch: 'main',
    revision: `${id}`.padStart(40, 'a'),
    author: 'Jane Doe <jane@example.com>',
    committer: 'Jane Doe <jane@example.com>',
    message: `change ${id}\n\nbody`,
    files: [],
    when: 1_700_000_000_000 + id,
    via: 'poll',
    received_at: 1_700_000_000_000 + id,
    ...extra,
  };
}

function build(change_id: number, builder: string, build_id: number, extra: Partial<GridBuild> = {}): GridBuild {
  return { change_id, builder, build_id, number: build_id, state: 'finished', result: 'SUCCESS', ...extra };
}

// Changes 3 (newest), 2, 1. Build 10 on linux collapsed changes 1 and 2; build 11 on linux built 3,
// and so did its rebuild 12; build 20 on mac built 1; changes 2 and 3 have no mac build yet.
const grid: GridJson = {
  builders: [
    { name: 'linux', tags: ['unix'] },
    { name: 'mac', tags: ['unix', 'apple'] },
    { name: 'windows', tags: [] },
  ],
  changes: [change(3), change(2, { branch: 'release' }), change(1)],
  cells: [
    build(3, 'linux', 11),
    build(3, 'linux', 12, { state: 'running', result: null }),
    build(2, 'linux', 10, { result: 'FAILURE' }),
    build(1, 'linux', 10, { result: 'FAILURE' }),
    build(1, 'mac', 20),
    build(99, 'linux', 30), // a change outside the window: ignored
    build(3, 'gone', 31), // a builder no longer configured: ignored
  ],
};

describe('buildGridModel', () => {
  it('keeps the API order of builders and changes (newest change first)', () => {
    const model = buildGridModel(grid);
    expect(model.builders.map((b) => b.name)).toEqual(['linux', 'mac', 'windows']);
    expect(model.changes.map((c) => c.id)).toEqual([3, 2, 1]);
  });

  it('lists several builds in one cell, newest first whatever the arrival order', () => {
    const model = buildGridModel(grid);
    expect(model.cell(3, 'linux').map((b) => b.build_id)).toEqual([12, 11]);
    expect(model.cell(3, 'linux')[0]?.state).toBe('running');
  });

  it('returns an empty cell where nothing was built', () => {
    const model = buildGridModel(grid);
    expect(model.cell(3, 'mac')).toEqual([]);
    expect(model.cell(3, 'windows')).toEqual([]);
    expect(model.cell(42, 'linux')).toEqual([]);
    expect(model.cellCount).toBe(4);
  });

  it('shows a collapsed build under every change of its blamelist, the newest as its tip', () => {
    const model = buildGridModel(grid);
    expect(model.cell(2, 'linux').map((b) => b.build_id)).toEqual([10]);
    expect(model.cell(1, 'linux').map((b) => b.build_id)).toEqual([10]);
    expect(model.span(10)).toBe(2);
    expect(model.isTip(10, 2)).toBe(true);
    expect(model.isTip(10, 1)).toBe(false);
    expect(model.span(11)).toBe(1);
    expect(model.isTip(11, 3)).toBe(true);
  });

  it('ignores a build listed twice in the same cell', () => {
    const model = buildGridModel({ ...grid, cells: [build(3, 'linux', 11), build(3, 'linux', 11)] });
    expect(model.cell(3, 'linux')).toHaveLength(1);
    expect(model.span(11)).toBe(1);
  });

  it('filters builders by case-insensitive name substring and by tag', () => {
    expect(buildGridModel(grid, { builder: 'IN' }).builders.map((b) => b.name)).toEqual(['linux', 'windows']);
    expect(buildGridModel(grid, { tag: 'apple' }).builders.map((b) => b.name)).toEqual(['mac']);
    expect(buildGridModel(grid, { tag: 'unix', builder: 'mac' }).builders.map((b) => b.name)).toEqual(['mac']);
    const model = buildGridModel(grid, { tag: 'apple' });
    expect(model.cell(3, 'linux')).toEqual([]);
    expect(model.cell(1, 'mac').map((b) => b.build_id)).toEqual([20]);
  });

  it('filters changes by branch, and a collapsed build then spans only the changes shown', () => {
    const model = buildGridModel(grid, { branch: 'main' });
    expect(model.changes.map((c) => c.id)).toEqual([3, 1]);
    expect(model.cell(2, 'linux')).toEqual([]);
    expect(model.span(10)).toBe(1);
    expect(model.isTip(10, 1)).toBe(true);
  });

  it('handles an empty grid', () => {
    const model = buildGridModel({ builders: [], changes: [], cells: [] });
    expect(model.builders).toEqual([]);
    expect(model.changes).toEqual([]);
    expect(model.groups).toEqual([]);
    expect(model.cellCount).toBe(0);
  });
});

describe('row signatures', () => {
  it('change only for the rows a new or finished build touches', () => {
    const before = buildGridModel(grid);
    const cells = grid.cells.map((c) => (c.build_id === 12 ? { ...c, state: 'finished' as const, result: 'FAILURE' as const } : c));
    const after = buildGridModel({ ...grid, cells });
    expect(after.builderSignature('linux')).not.toBe(before.builderSignature('linux'));
    expect(after.builderSignature('mac')).toBe(before.builderSignature('mac'));
    expect(after.changeSignature(3)).not.toBe(before.changeSignature(3));
    expect(after.changeSignature(1)).toBe(before.changeSignature(1));
    expect(after.changeKey).toBe('3,2,1');
  });

  it('tell a collapsed build\'s tip from its older changes', () => {
    const model = buildGridModel(grid);
    expect(model.changeSignature(2)).not.toContain('~');
    expect(model.changeSignature(1)).toContain('10FAILURE~');
  });
});

describe('groupByTag', () => {
  it('groups by first tag in order of appearance, untagged last', () => {
    const groups = groupByTag([
      { name: 'w', tags: [] },
      { name: 'a', tags: ['unix'] },
      { name: 'b', tags: ['win', 'x'] },
      { name: 'c', tags: ['unix'] },
    ]);
    expect(groups.map((g) => [g.tag, g.builders.map((b) => b.name)])).toEqual([
      ['unix', ['a', 'c']],
      ['win', ['b']],
      [null, ['w']],
    ]);
  });
});

describe('tags and branches', () => {
  it('lists each once, sorted', () => {
    expect(tagsOf(grid.builders)).toEqual(['apple', 'unix']);
    expect(branchesOf(grid.changes)).toEqual(['main', 'release']);
  });
});

describe('text helpers', () => {
  it('shortens git hashes only', () => {
    expect(shortRevision('0123456789abcdef0123456789abcdef01234567')).toBe('0123456');
    expect(shortRevision('r1234')).toBe('r1234');
  });

  it('takes the first line of a message', () => {
    expect(firstLine('\n  Fix the build  \n\nBecause.')).toBe('Fix the build');
    expect(firstLine('')).toBe('');
  });

  it('reads author names and initials', () => {
    expect(authorName('Jane Doe <jane@example.com>')).toBe('Jane Doe');
    expect(authorName('<jdoe@example.com>')).toBe('jdoe');
    expect(authorName('plain')).toBe('plain');
    expect(authorInitials('Jane Q. Doe <j@x>')).toBe('JQD');
    expect(authorInitials('jdoe <j@x>')).toBe('jd');
    expect(authorInitials('')).toBe('?');
  });
});

describe('filters in the query string', () => {
  it('round-trips the filters and leaves the default count out', () => {
    const filter = { builder: 'lin', tag: 'unix', branch: 'main', changes: 25 };
    expect(readFilter(writeFilter(filter))).toEqual(filter);
    expect(writeFilter({ changes: 50 }).toString()).toBe('');
    expect(writeFilter({ builder: 'a b', changes: 100 }).toString()).toBe('builder=a+b&changes=100');
  });

  it('ignores empty and malformed values', () => {
    expect(readFilter(new URLSearchParams('builder=&tag=%20&changes=abc'))).toEqual({});
    expect(readFilter(new URLSearchParams('changes=0'))).toEqual({});
    expect(readFilter(new URLSearchParams('changes=500'))).toEqual({});
    expect(readFilter(new URLSearchParams('changes=50'))).toEqual({});
  });
});
