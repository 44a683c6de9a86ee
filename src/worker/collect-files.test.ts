import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findFiles } from './collect-files.js';

describe('findFiles', () => {
  let root: string;
  let builder: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'shepherd-collect-'));
    builder = join(root, 'builder');
    mkdirSync(join(builder, 'src', 'out', 'deep'), { recursive: true });
    writeFileSync(join(builder, 'src', 'out', 'x.log'), 'x');
    writeFileSync(join(builder, 'src', 'out', 'deep', 'y.log'), 'yy');
    writeFileSync(join(builder, 'src', 'top.log'), 'top');
    writeFileSync(join(builder, 'outside-workdir.log'), 'inside the builder');
    writeFileSync(join(root, 'secret.txt'), 'not yours');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds regular files by glob, each once, sorted, with sizes', async () => {
    const cwd = join(builder, 'src');
    const { files, problems } = await findFiles(cwd, builder, ['**/*.log', 'out/*.log', 'top.log', 'nothing/*.log']);
    expect(files.map((f) => [f.name, f.size])).toEqual([
      ['out/deep/y.log', 2],
      ['out/x.log', 1],
      ['top.log', 3],
    ]);
    expect(problems).toEqual([]);
  });

  it('follows links only to files inside the builder directory, and never globs outside the workdir', async () => {
    const cwd = join(builder, 'src');
    symlinkSync(join(builder, 'outside-workdir.log'), join(cwd, 'ok-link.log'));
    symlinkSync(join(root, 'secret.txt'), join(cwd, 'escape.log'));
    symlinkSync(root, join(cwd, 'escape-dir'));
    const { files, problems } = await findFiles(cwd, builder, ['*.log', 'escape-dir/*.txt', '../*.log', '/etc/passwd']);
    expect(files.map((f) => [f.name, f.path])).toEqual([
      ['ok-link.log', join(builder, 'outside-workdir.log')],
      ['top.log', join(cwd, 'top.log')],
    ]);
    expect(problems).toEqual([
      'escape.log: a symbolic link pointing outside the builder directory; not collected',
      'escape-dir: a symbolic link pointing outside the builder directory; not searched',
      'glob "../*.log" reaches outside the step\'s working directory with ".."',
      'glob "/etc/passwd" is absolute; globs are relative to the step\'s working directory',
    ]);
  });
});
