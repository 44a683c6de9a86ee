import { describe, expect, it } from 'vitest';
import { OnChangeTrigger } from '../config/schema.js';
import {
  MAX_BATCH_CHANGES,
  addChange,
  batchDeadline,
  batchesFromState,
  batchesToState,
  changeFilter,
  mergeBatches,
  nextDeadline,
  takeDue,
  type ChangeBatch,
} from './on-change.js';

const trigger = (raw: unknown) => OnChangeTrigger.parse(raw);
const change = (id: number, source = 'cpython', branch = 'main') => ({ id, source, branch });

describe('changeFilter: follows', () => {
  it('follows every source and branch by default', () => {
    const f = changeFilter(trigger({}));
    expect(f.follows({ source: 'a', branch: 'x' })).toBe(true);
  });
  it('follows only the named sources (one or a list)', () => {
    expect(changeFilter(trigger({ changes: 'a' })).follows({ source: 'b', branch: 'main' })).toBe(false);
    const f = changeFilter(trigger({ changes: ['a', 'b'] }));
    expect(f.follows({ source: 'b', branch: 'main' })).toBe(true);
    expect(f.follows({ source: 'c', branch: 'main' })).toBe(false);
  });
  it('follows only matching branches (names and globs)', () => {
    const f = changeFilter(trigger({ branches: ['main', '3.*'] }));
    expect(['main', '3.13', 'feature', 'main2'].map((branch) => f.follows({ source: 's', branch }))).toEqual([true, true, false, false]);
  });
  it('follows nothing with an empty branch list', () => {
    expect(changeFilter(trigger({ branches: [] })).follows({ source: 's', branch: 'main' })).toBe(false);
  });
});

describe('changeFilter: important', () => {
  it('counts any file by default', () => {
    expect(changeFilter(trigger({})).important({ files: ['Doc/a.rst'] })).toBe(true);
  });
  it('needs at least one file that is not ignored', () => {
    const f = changeFilter(trigger({ ignore: ['Doc/**', '*.md'] }));
    expect(f.important({ files: ['Doc/a.rst', 'README.md'] })).toBe(false);
    expect(f.important({ files: ['Doc/a.rst', 'Lib/os.py'] })).toBe(true);
  });
  it('needs a file matching files and not ignore', () => {
    const f = changeFilter(trigger({ files: ['Lib/**', 'Modules/**'], ignore: ['Lib/test/**'] }));
    expect(f.important({ files: ['Lib/test/test_os.py'] })).toBe(false);
    expect(f.important({ files: ['Tools/x.py'] })).toBe(false);
    expect(f.important({ files: ['Tools/x.py', 'Modules/posix.c'] })).toBe(true);
  });
  it('counts a change without a file list as important', () => {
    expect(changeFilter(trigger({ files: ['Lib/**'], ignore: ['**'] })).important({ files: [] })).toBe(true);
  });
});

describe('batches', () => {
  const QUIET = 60_000;

  it('collects changes of one branch and restarts the quiet period at each', () => {
    let { batches, deadline } = addChange([], change(1), true, 1000, QUIET);
    expect(deadline).toBe(61_000);
    ({ batches, deadline } = addChange(batches, change(2), true, 30_000, QUIET));
    expect(deadline).toBe(90_000);
    expect(batches).toEqual([{ source: 'cpython', branch: 'main', changeIds: [1, 2], important: true, quietSince: 30_000 }]);
    expect(takeDue(batches, 89_999, QUIET).due).toEqual([]);
    const { due, pending } = takeDue(batches, 90_000, QUIET);
    expect(due.map((b) => b.changeIds)).toEqual([[1, 2]]);
    expect(pending).toEqual([]);
  });

  it('keeps one batch per (source, branch)', () => {
    let { batches } = addChange([], change(1, 's', 'main'), true, 0, QUIET);
    ({ batches } = addChange(batches, change(2, 's', '3.13'), true, 10, QUIET));
    ({ batches } = addChange(batches, change(3, 't', 'main'), true, 20, QUIET));
    expect(batches.map((b) => [b.source, b.branch, b.changeIds])).toEqual([
      ['s', 'main', [1]],
      ['s', '3.13', [2]],
      ['t', 'main', [3]],
    ]);
    expect(nextDeadline(batches, QUIET)).toBe(QUIET);
    expect(takeDue(batches, QUIET + 10, QUIET).due.map((b) => b.changeIds)).toEqual([[1], [2]]);
  });

  it('never queues a batch of unimportant changes, but keeps them for the next important one', () => {
    let { batches, deadline } = addChange([], change(1), false, 0, QUIET);
    expect(deadline).toBeNull();
    expect(nextDeadline(batches, QUIET)).toBeNull();
    expect(takeDue(batches, 10 * QUIET, QUIET)).toEqual({ due: [], pending: batches });
    ({ batches, deadline } = addChange(batches, change(2), true, 10 * QUIET, QUIET));
    expect(deadline).toBe(11 * QUIET);
    expect(takeDue(batches, 11 * QUIET, QUIET).due).toEqual([
      { source: 'cpython', branch: 'main', changeIds: [1, 2], important: true, quietSince: 10 * QUIET },
    ]);
  });

  it('lets an unimportant change extend a running quiet period', () => {
    let { batches } = addChange([], change(1), true, 0, QUIET);
    let deadline: number | null;
    ({ batches, deadline } = addChange(batches, change(2), false, 50_000, QUIET));
    expect(deadline).toBe(110_000);
    expect(batches[0]!.important).toBe(true);
  });

  it('is due at once with no quiet period', () => {
    const { batches, deadline } = addChange([], change(1), true, 5, 0);
    expect(deadline).toBe(5);
    expect(takeDue(batches, 5, 0).due).toHaveLength(1);
  });

  it('recomputes deadlines from the quiet period in force now (a restart with a new config)', () => {
    const batch: ChangeBatch = { source: 's', branch: 'main', changeIds: [1], important: true, quietSince: 1000 };
    expect(batchDeadline(batch, 10)).toBe(1010);
    expect(batchDeadline(batch, 5000)).toBe(6000);
  });

  it('sorts and de-duplicates ids, and caps an ever-unimportant batch', () => {
    let { batches } = addChange([], change(5), false, 0, QUIET);
    ({ batches } = addChange(batches, change(3), false, 0, QUIET));
    ({ batches } = addChange(batches, change(5), false, 0, QUIET));
    expect(batches[0]!.changeIds).toEqual([3, 5]);
    for (let id = 10; id < 10 + MAX_BATCH_CHANGES + 5; id++) ({ batches } = addChange(batches, change(id), false, 0, QUIET));
    expect(batches[0]!.changeIds).toHaveLength(MAX_BATCH_CHANGES);
    expect(batches[0]!.changeIds.at(-1)).toBe(10 + MAX_BATCH_CHANGES + 4);
  });

  it('does not change the batches it is given', () => {
    const first = addChange([], change(1), false, 0, QUIET).batches;
    const copy = structuredClone(first);
    addChange(first, change(2), true, 10, QUIET);
    expect(first).toEqual(copy);
  });

  it('merges restored batches with ones collected meanwhile', () => {
    const restored: ChangeBatch[] = [
      { source: 's', branch: 'main', changeIds: [1, 2], important: false, quietSince: null },
      { source: 's', branch: 'dev', changeIds: [3], important: true, quietSince: 100 },
    ];
    const current: ChangeBatch[] = [
      { source: 's', branch: 'main', changeIds: [4], important: true, quietSince: 500 },
      { source: 't', branch: 'main', changeIds: [5], important: true, quietSince: 600 },
    ];
    expect(mergeBatches(restored, current)).toEqual([
      { source: 's', branch: 'main', changeIds: [1, 2, 4], important: true, quietSince: 500 },
      restored[1],
      current[1],
    ]);
  });

  it('round-trips through saved state, and reads foreign state as none', () => {
    const { batches } = addChange([], change(7), true, 42, QUIET);
    expect(batchesFromState(JSON.parse(JSON.stringify(batchesToState(batches))))).toEqual(batches);
    expect(batchesFromState(undefined)).toEqual([]);
    expect(batchesFromState({ lastChangeId: 3 })).toEqual([]);
  });
});
