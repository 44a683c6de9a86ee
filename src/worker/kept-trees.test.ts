import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIdOfKeptTree, keptTreeName, KeptTrees, planKeep, type KeepPolicy } from './kept-trees.js';

const MB = 1024 ** 2;
const tree = (buildId: number, bytes: number) => ({ name: `b-${buildId}`, buildId, bytes });

describe('planKeep', () => {
  const policy: KeepPolicy = { maxBuilds: 2, maxBytes: 10 * MB };

  it('keeps a tree that fits, removing nothing', () => {
    expect(planKeep(policy, tree(5, MB), [tree(3, MB)], 'w1')).toEqual({ keep: true, remove: [] });
  });

  it('removes the oldest builds first past the count', () => {
    expect(planKeep(policy, tree(9, MB), [tree(7, MB), tree(3, MB)], 'w1')).toEqual({ keep: true, remove: ['b-3'] });
    expect(planKeep({ maxBuilds: 1, maxBytes: 10 * MB }, tree(9, MB), [tree(7, MB), tree(3, MB)], 'w1')).toEqual({ keep: true, remove: ['b-3', 'b-7'] });
  });

  it('removes the oldest builds first past the size, even under the count', () => {
    expect(planKeep({ maxBuilds: 5, maxBytes: 10 * MB }, tree(9, 6 * MB), [tree(8, 3 * MB), tree(2, 3 * MB)], 'w1')).toEqual({ keep: true, remove: ['b-2'] });
  });

  it('refuses a tree bigger than the cap alone, and everything when keeping is off', () => {
    const big = planKeep(policy, tree(9, 11 * MB), [], 'w1');
    expect(big).toEqual({ keep: false, reason: 'the tree takes 11 MiB, more than the 10 MiB the admin of w1 allows for kept trees (keep.max_size)' });
    expect(planKeep(false, tree(9, 1), [], 'w1')).toEqual({ keep: false, reason: "the admin of w1 does not keep failed builds' trees (keep: false in worker.yml)" });
    expect(planKeep({ maxBuilds: 0, maxBytes: MB }, tree(9, 1), [], 'w1').keep).toBe(false);
  });
});

describe('kept tree names', () => {
  it('flattens the builder directory and reads the build id back', () => {
    expect(keptTreeName('unix-tests', 12)).toBe('unix-tests-12');
    expect(keptTreeName('a/b c', 3)).toBe('a_b_c-3');
    expect(keptTreeName('..', 3)).toBe('_-3');
    expect(buildIdOfKeptTree('unix-tests-12')).toBe(12);
    expect(buildIdOfKeptTree('stray')).toBeNull();
  });
});

describe('KeptTrees', () => {
  let dir: string;
  let logged: string[];
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'shepherd-kept-')));
    logged = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function trees(policy: KeepPolicy | false) {
    return new KeptTrees({ dir, stateDir: join(dir, '.shepherd'), policy, worker: 'w1', log: (line) => logged.push(line) });
  }
  function builderTree(content: string, bytes = 0): void {
    mkdirSync(join(dir, 'b', 'out'), { recursive: true });
    writeFileSync(join(dir, 'b', 'out', 'marker'), content);
    if (bytes) writeFileSync(join(dir, 'b', 'blob'), Buffer.alloc(bytes));
  }

  it('moves the builder directory aside at once, finds it by build, and prunes the oldest past the cap', async () => {
    const kept = trees({ maxBuilds: 2, maxBytes: 10 * MB });
    for (const id of [4, 7, 9]) {
      builderTree(`build ${id}`);
      const outcome = kept.keep(id, 'b');
      // The rename is done before keep() returns: the next build starts from nothing.
      expect(existsSync(join(dir, 'b'))).toBe(false);
      expect(await outcome).toEqual({ path: join(dir, '.shepherd', 'kept', `b-${id}`), reason: null });
    }
    expect(readdirSync(join(dir, '.shepherd', 'kept')).sort()).toEqual(['b-7', 'b-9']);
    expect(readFileSync(join(kept.treeOf(7)!, 'out', 'marker'), 'utf8')).toBe('build 7');
    expect(kept.treeOf(4)).toBeUndefined();
    expect(logged.some((l) => l.includes('removing the kept tree b-4'))).toBe(true);
  });

  it('does not keep a tree over the size cap, nor any when the admin says keep: false, nor a directory that is not there', async () => {
    builderTree('big', 2 * MB);
    expect(await trees({ maxBuilds: 2, maxBytes: MB }).keep(3, 'b')).toEqual({
      path: null,
      reason: expect.stringMatching(/^the tree takes 2\.0 MiB, more than the 1 MiB the admin of w1 allows/),
    });
    expect(readdirSync(join(dir, '.shepherd', 'kept'))).toEqual([]);

    builderTree('small');
    expect(await trees(false).keep(4, 'b')).toEqual({ path: null, reason: expect.stringContaining('keep: false') });
    expect(existsSync(join(dir, 'b', 'out', 'marker'))).toBe(true);
    expect(await trees({ maxBuilds: 1, maxBytes: MB }).keep(5, 'nope')).toEqual({ path: null, reason: expect.stringContaining('does not exist') });
    expect(await trees({ maxBuilds: 1, maxBytes: MB }).keep(6, '../elsewhere')).toEqual({ path: null, reason: expect.stringContaining('escapes the worker directory') });
  });
});
